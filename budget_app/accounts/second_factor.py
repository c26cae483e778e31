"""Second factor: TOTP (RFC 6238, 30 s steps, 6 digits, pyotp) and single-use recovery codes.

Required for admins and anti-fraud referents (``roles.SECOND_FACTOR_REQUIRED``: enrolment
is forced at their first login), optional for the others. The TOTP secret is stored
encrypted under a key derived from ``SECRET_KEY`` (a database dump alone does not give it);
a code is accepted once (the last time step used is kept: a replayed code is refused), with
one step of clock drift either way. Recovery codes (10, shown once) are kept as argon2
hashes and each works once.
"""
import hmac
import secrets
import time
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select

from ..kernel import keybox
from ..kernel.audit import services as audit
from ..kernel.extensions import db
from .models import RecoveryCode, User
from .passwords import secret_hasher, verify_hash
from .policy import second_factor_required

ISSUER = "Suivi FSE+"
PURPOSE = "totp-secret"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no look-alike characters


def required_for(user: User) -> bool:
    return second_factor_required(user.role)


def enabled(user: User) -> bool:
    return user.totp_confirmed_at is not None and user.totp_secret_enc is not None


def _key() -> bytes:
    return keybox.derived_key(current_app.secret_key.encode(), PURPOSE)


def _secret(user: User) -> str | None:
    if user.totp_secret_enc is None:
        return None
    try:
        return keybox.unlock(_key(), user.totp_secret_enc, f"{PURPOSE}:{user.id}").decode("ascii")
    except keybox.KeyboxError:
        return None


def start_enrolment(user: User) -> str:
    """A new secret waiting for its first code (an enrolment not finished is replaced)."""
    import pyotp

    secret = pyotp.random_base32()
    user.totp_secret_enc = keybox.lock(_key(), secret.encode("ascii"), f"{PURPOSE}:{user.id}")
    user.totp_confirmed_at = None
    user.totp_last_counter = None
    db.session.flush()
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment not yet confirmed (to show its QR code again)."""
    return None if enabled(user) else _secret(user)


def provisioning_uri(user: User, secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG inlined in a ``data:`` URI (segno; no request, no CDN; the
    CSP allows ``img-src data:``), so the page marks no markup safe."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff")


def _accepted_counter(secret: str, code: str, after: int | None, now: float | None = None) -> int | None:
    import pyotp

    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc))
    for counter in (current - 1, current, current + 1):
        if after is not None and counter <= after:
            continue  # this code, or an older one, was used already (RFC 6238 §5.2)
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def check_code(user: User, code: str, now: float | None = None) -> bool:
    """A TOTP code of the user's confirmed secret, never used before; or a recovery code."""
    secret = _secret(user)
    if secret is None:
        return False
    counter = _accepted_counter(secret, code, user.totp_last_counter, now)
    if counter is not None and enabled(user):
        user.totp_last_counter = counter
        return True
    return use_recovery_code(user, code)


def confirm_enrolment(user: User, code: str, now: float | None = None) -> list[str] | None:
    """The first code confirms the pending secret; returns the recovery codes (shown once)."""
    secret = pending_secret(user)
    counter = _accepted_counter(secret, code, None, now) if secret else None
    if counter is None:
        return None
    user.totp_confirmed_at = datetime.now(timezone.utc)
    user.totp_last_counter = counter
    audit.record("second_factor_enabled", "users", user.id)
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12)) for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=secret_hasher().hash(code)))
    db.session.flush()
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def use_recovery_code(user: User, code: str) -> bool:
    code = (code or "").strip().lower().replace("-", "").replace(" ", "")
    if len(code) != 12 or any(ch not in RECOVERY_ALPHABET for ch in code):
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for stored in unused:
        if verify_hash(stored.code_hash, code):
            stored.used_at = datetime.now(timezone.utc)
            audit.record("recovery_code_used", "users", user.id)
            return True
    return False


def remaining_recovery_codes(user: User) -> int:
    return len(db.session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all())


def reset(user: User) -> None:
    """Removes the second factor (`users reset-second-factor`): enrolled again at next login."""
    user.totp_secret_enc = None
    user.totp_confirmed_at = None
    user.totp_last_counter = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("second_factor_reset", "users", user.id)
