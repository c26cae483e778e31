"""Throttle keys for the limits kept in the rate limiter's storage (``RATELIMIT_STORAGE_URI``,
shared by every worker when it is Redis; every key carries ``RATELIMIT_KEY_PREFIX``). Keys are
keyed hashes (HMAC with ``SECRET_KEY``): no address, e-mail or alert reference is stored in clear.

A throttled request is refused at once with 429 and ``Retry-After`` (``retry_after``): no
request ever waits inside a worker (issue 21: four sleeping failures held all four gunicorn
workers). Failures are counted per (address, account) and per address, never per account
or per reference alone: someone else's failures never lock the rightful user out (issue 13)."""
import hashlib
import hmac
import math
import secrets
import threading
import time
from contextlib import contextmanager

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

from .extensions import limiter

# When a refused request cannot say when its window ends (storage unreachable): 15 minutes.
FALLBACK_RETRY_SECONDS = 15 * 60


def keyed(*parts: str) -> str:
    """A keyed hash of ``parts`` (an address, an e-mail, a reference): stable across
    workers, meaningless without SECRET_KEY."""
    message = "\x1f".join(str(part) for part in parts).encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def client_address() -> str:
    return request.remote_addr or ""


def retry_after() -> int:
    """Seconds until the breached limit of this request lets the client try again (at
    least 1): the end of its window in the shared storage."""
    breached = [item for item in (limiter.current_limits or []) if item.breached]
    try:
        reset_at = max(item.window[0] for item in breached) if breached else None
    except Exception:  # noqa: BLE001 - storage gone: a fixed answer, never a 500
        reset_at = None
    if reset_at is None:
        return FALLBACK_RETRY_SECONDS
    return max(1, math.ceil(reset_at - time.time()))


# ---- costly checks: at most a few at once across workers, never queued

class Busy(TooManyRequests):
    """Every slot for a costly check is taken: 429 at once, never a queue of workers."""

    retry_seconds = 2


class _LocalSlots:
    """The slots of one process (memory:// storage: one process only), like SET NX EX."""

    def __init__(self):
        self.lock = threading.Lock()
        self.held: dict[str, float] = {}

    def set(self, key, token, nx=True, ex=30):
        with self.lock:
            now = time.monotonic()
            if self.held.get(key, (None, 0))[1] > now:
                return False
            self.held[key] = (token, now + ex)
            return True

    def release(self, key, token):
        with self.lock:
            if self.held.get(key, (None, 0))[0] == token:
                del self.held[key]


_local_slots = _LocalSlots()
SLOT_SECONDS = 30  # a slot a dead worker kept is free again after this


def _slot_store():
    client = getattr(limiter.storage, "storage", None)
    return client if hasattr(client, "set") and hasattr(client, "eval") else None


def acquire_slot(name: str, slots: int) -> tuple[str, str] | None:
    """A free slot among ``slots`` for ``name`` (key, token), shared by every worker through
    Redis when the throttles use it; None when all are taken."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    token = secrets.token_hex(8)
    client = _slot_store()
    for index in range(max(1, slots)):
        key = f"{prefix}/slots/{name}/{index}"
        taken = client.set(key, token, nx=True, ex=SLOT_SECONDS) if client else _local_slots.set(key, token, ex=SLOT_SECONDS)
        if taken:
            return key, token
    return None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def release_slot(slot: tuple[str, str]) -> None:
    key, token = slot
    client = _slot_store()
    if client:
        client.eval(_RELEASE, 1, key, token)
    else:
        _local_slots.release(key, token)


@contextmanager
def costly_check(name: str, slots: int, message):
    """Runs the block in one of ``slots`` slots, else raises ``Busy`` with ``message``: an
    argon2 password check costs about a second of CPU, so that a burst of failing logins
    (each address within its limits) never takes every worker (issue 21, point 4)."""
    slot = acquire_slot(name, slots)
    if slot is None:
        raise Busy(description=str(message))
    try:
        yield
    finally:
        release_slot(slot)
