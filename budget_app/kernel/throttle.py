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
import time

from flask import current_app, request

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
