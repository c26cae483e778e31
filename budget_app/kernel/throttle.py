"""Throttle keys for the limits kept in the rate limiter's storage (``RATELIMIT_STORAGE_URI``,
shared by every worker when it is Redis; every key carries ``RATELIMIT_KEY_PREFIX``). Keys are
keyed hashes (HMAC with ``SECRET_KEY``): no address, e-mail or alert reference is stored in clear.

A throttled request is refused at once with 429 and ``Retry-After`` (``retry_after``): no
request ever waits inside a worker (issue 21: four sleeping failures held all four gunicorn
workers). Failures are counted per (address, account) and per address, never per account
or per reference alone: someone else's failures never lock the rightful user out (issue 13).

Failing logins never take the processors from the other requests (issue 21, point 4): a
refusal already decided is answered first thing (``refuse_early``); a password check runs in
one of the host's few slots, taken as the request arrives (``slot_on_arrival``) or by
``costly_check``, and each slot rests after a check so that checks use at most a share of
its time."""
import hashlib
import hmac
import math
import os
import secrets
import socket
import threading
import time
from contextlib import contextmanager

from flask import current_app, g, request
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


# ---- refusals already decided: answered first, cheaply

# endpoint -> the key functions of its limits (the same as its ``limiter.limit`` decorators).
_early_keys: dict[str, tuple] = {}
REFUSALS_KEPT = 4096  # per process; past it, the ended ones go (then the oldest)


def refuse_early(endpoint: str, *key_functions) -> None:
    """Once a limit of ``endpoint`` (POST) has refused a key, this worker answers that key's
    next requests before anything else, until the limit's window ends: no storage round trip,
    no form, no page layout, no password check. The limiter would refuse them anyway (its
    window only ends at that time); under a flood of failing logins, each refusal then costs
    less than ``/sante`` (issue 21, point 4)."""
    _early_keys[endpoint] = key_functions


def _refusals() -> dict:
    return current_app.extensions.setdefault("early_refusals", {})


def remember_refusals(message=None) -> None:
    """The limiter refused this request (``message``: its limit's): remember each breached
    key until its window ends."""
    if request.endpoint not in _early_keys or request.method != "POST":
        return
    refusals = _refusals()
    for item in limiter.current_limits or []:
        if not item.breached:
            continue
        try:
            until = item.window[0]
        except Exception:  # noqa: BLE001 - storage gone: the limiter answers, as before
            continue
        if len(refusals) >= REFUSALS_KEPT:
            now = time.time()
            for key in [key for key, (ends, _m) in refusals.items() if ends <= now] or list(refusals)[:REFUSALS_KEPT // 4]:
                del refusals[key]
        refusals[(request.endpoint, item.request_args[-2])] = (until, message)


def refused_until() -> tuple[float, object] | None:
    """The refusal already decided for this request: (when it ends, epoch seconds; its
    message), the latest of its keys', else None."""
    key_functions = _early_keys.get(request.endpoint)
    refusals = current_app.extensions.get("early_refusals")
    if not key_functions or not refusals or request.method != "POST":
        return None
    now = time.time()
    found = [refusals.get((request.endpoint, key_function())) for key_function in key_functions]
    found = [refusal for refusal in found if refusal is not None and refusal[0] > now]
    return max(found, key=lambda refusal: refusal[0]) if found else None


# ---- costly checks: at most a few at once across workers, never queued

class Busy(TooManyRequests):
    """Every slot for a costly check is taken: 429 at once, never a queue of workers."""

    retry_seconds = 2


class _LocalSlots:
    """The slots of one process (memory:// storage: one process only), like SET NX EX."""

    def __init__(self):
        self.lock = threading.Lock()
        self.held: dict[str, tuple[str, float]] = {}

    def set(self, key, token, nx=True, ex=30):
        with self.lock:
            now = time.monotonic()
            if self.held.get(key, (None, 0))[1] > now:
                return False
            self.held[key] = (token, now + ex)
            return True

    def release(self, key, token, rest=0.0):
        with self.lock:
            if self.held.get(key, (None, 0))[0] == token:
                if rest > 0:
                    self.held[key] = (token, time.monotonic() + rest)
                else:
                    del self.held[key]

    def held_now(self, key) -> bool:
        with self.lock:
            return self.held.get(key, (None, 0))[1] > time.monotonic()


def _local_slots() -> _LocalSlots:
    """This app's slots when the throttles live in memory (one process, one app)."""
    return current_app.extensions.setdefault("throttle_slots", _LocalSlots())


SLOT_SECONDS = 30  # a slot a dead worker kept is free again after this
HOST = socket.gethostname()


def slots_per_host(configured: int | None) -> int:
    """The slots of this host: the setting, else half its processors (at least one). An argon2
    check with 4 lanes runs on several processors at once: one at a time on a 2-core host
    leaves the other requests a processor."""
    if configured:
        return max(1, int(configured))
    return max(1, (os.cpu_count() or 2) // 2)


def _slot_store():
    client = getattr(limiter.storage, "storage", None)
    return client if hasattr(client, "set") and hasattr(client, "eval") else None


def acquire_slot(name: str, slots: int) -> tuple[str, str] | None:
    """A free slot among ``slots`` for ``name`` on this host (key, token), shared by every
    worker of the host through Redis when the throttles use it (the processors are the host's:
    another server has its own slots); None when all are taken."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    token = secrets.token_hex(8)
    client = _slot_store()
    for index in range(max(1, slots)):
        key = f"{prefix}/slots/{HOST}/{name}/{index}"
        taken = client.set(key, token, nx=True, ex=SLOT_SECONDS) if client else _local_slots().set(key, token, ex=SLOT_SECONDS)
        if taken:
            return key, token
    return None


# ---- addresses that failed lately: only their checks take a slot
FAILED_SECONDS = 15 * 60  # as long as the login limits' window


def _failed_key(name: str) -> str:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return f"{prefix}/failed/{name}/{keyed(client_address())}"


def note_failure(name: str) -> None:
    """This address just failed a ``name`` check: for FAILED_SECONDS its next checks take one
    of the host's slots (and are refused with 429 when none is free). An address that has not
    failed is never refused for want of a slot: people logging in at the same minute each get
    their check; only the addresses that fail in a loop share the few slots."""
    client = _slot_store()
    if client:
        client.set(_failed_key(name), "1", ex=FAILED_SECONDS)
    else:
        _local_slots().set(_failed_key(name), "1", ex=FAILED_SECONDS)


def failed_lately(name: str) -> bool:
    client = _slot_store()
    if client:
        return bool(client.exists(_failed_key(name)))
    return _local_slots().held_now(_failed_key(name))


# Give the slot back (its token only), at once or after a rest in milliseconds.
_RELEASE = """if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return redis.call('del', KEYS[1])"""


def release_slot(slot: tuple[str, str], rest: float = 0.0) -> None:
    """Give ``slot`` back, free at once, or after ``rest`` seconds (it stays taken meanwhile:
    nobody waits, the next check is refused with 429 until then)."""
    key, token = slot
    rest_ms = int(rest * 1000)
    client = _slot_store()
    if client:
        client.eval(_RELEASE, 1, key, token, rest_ms)
    else:
        _local_slots().release(key, token, rest_ms / 1000)


MIN_REST = 0.005  # a check that cheap (tests' argon2 parameters) starves nothing


def rest_after(cpu: float, share: float) -> float:
    """How long a slot stays taken after a check that used ``cpu`` seconds of processor time
    (all its threads) so that checks use at most ``share`` of the slot's time: a check of
    0.4 s at a share of 0.5 rests 0.4 s; a share of 1 never rests; under 5 ms, no rest."""
    share = min(1.0, max(0.05, share))
    rest = cpu * (1 / share - 1)
    return rest if rest >= MIN_REST else 0.0


# endpoint -> (check name, the setting of its slots, the message when all are taken)
_arrival_slots: dict[str, tuple] = {}


def slot_on_arrival(endpoint: str, name: str, setting: str, message) -> None:
    """A POST to ``endpoint`` takes its ``name`` slot as it arrives, before the limiter, the
    form or the database: when all are taken it is answered 429 (``message``) at once, at
    the cost of one storage round trip; else ``costly_check`` uses that slot, and a request
    that ends without checking gives it back (``release_arrival_slots``)."""
    _arrival_slots[endpoint] = (name, setting, message)


def take_arrival_slot():
    """before_request: None (go on), or the message of the ``Busy`` answer to give at once."""
    entry = _arrival_slots.get(request.endpoint)
    if entry is None or request.method != "POST":
        return None
    name, setting, message = entry
    if not failed_lately(name):
        g.unmetered = {*g.get("unmetered", ()), name}
        return None
    slot = acquire_slot(name, slots_per_host(current_app.config.get(setting)))
    if slot is None:
        return message
    g.arrival_slots = {**g.get("arrival_slots", {}), name: slot}
    return None


def release_arrival_slots(_error=None) -> None:
    """teardown_request: the slots taken on arrival that no check used, free at once."""
    for slot in g.pop("arrival_slots", {}).values():
        release_slot(slot)


@contextmanager
def costly_check(name: str, slots: int | None, message, share: float | None = None):
    """Runs the block in one of this host's ``slots`` slots, else raises ``Busy`` with
    ``message`` at once (nothing hashed, nothing queued): an argon2 password check costs
    processor time, so that a burst of failing logins (each address within its limits) never
    takes every processor from the other requests (issue 21, point 4). Each slot then rests
    so that checks hold it at most ``share`` of the time (default: the setting
    ``<NAME>_CHECKS_SHARE``, e.g. ``PASSWORD_CHECKS_SHARE``, else 1)."""
    if share is None:
        share = current_app.config.get(f"{name.upper()}_CHECKS_SHARE") or 1
    slot = g.get("arrival_slots", {}).pop(name, None)
    if slot is None and (name in g.get("unmetered", ()) or not failed_lately(name)):
        yield  # an address that has not failed lately: its check is never refused
        return
    slot = slot or acquire_slot(name, slots_per_host(slots))
    if slot is None:
        raise Busy(description=str(message))
    # The process's processor time: argon2's lanes run in threads of their own (a sync worker
    # serves one request at a time, so nothing else is counted).
    started = time.process_time()
    try:
        yield
    finally:
        release_slot(slot, rest_after(time.process_time() - started, share))
