"""Failure counters and progressive delays kept in the rate limiter's storage
(``RATELIMIT_STORAGE_URI``, shared by every worker when it is Redis), next to the
Flask-Limiter limits. Keys are keyed hashes (HMAC with ``SECRET_KEY``): no address,
e-mail or alert reference is stored in clear.

A delay never refuses: it slows the answer to a failure, more with each recent failure
of the same target (account, alert reference), so that failures caused by someone else
never lock the rightful user out (issue 13)."""
import hashlib
import hmac
import time

from flask import current_app, request
from limits import parse

from .extensions import limiter

# Failures are counted over 15 minutes; the amount only bounds the counter.
WINDOW = parse("1000000 per 15 minutes")


def keyed(*parts: str) -> str:
    """A keyed hash of ``parts`` (an address, an e-mail, a reference): stable across
    workers, meaningless without SECRET_KEY."""
    message = "\x1f".join(str(part) for part in parts).encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def client_address() -> str:
    return request.remote_addr or ""


def record_failure(scope: str, *parts: str) -> int:
    """Counts one failure for (scope, parts); returns the failures in the window."""
    limiter.limiter.hit(WINDOW, scope, keyed(*parts))
    return failures(scope, *parts)


def failures(scope: str, *parts: str) -> int:
    stats = limiter.limiter.get_window_stats(WINDOW, scope, keyed(*parts))
    return WINDOW.amount - stats.remaining


def progressive_delay(count: int, base: float, maximum: float, free: int = 1) -> float:
    """``base`` seconds for the first ``free`` failures, then doubling, at most ``maximum``."""
    if count <= 0 or base <= 0:
        return 0.0
    return min(maximum, base * 2 ** max(0, count - free))


def pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
