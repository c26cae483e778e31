"""Accounts: passwords, sessions, users. Services flush; the caller commits."""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select, update

from ..audit import services as audit
from ..extensions import db
from ..money import N_, translate
from ..operations.models import Operation
from .models import User, UserSession
from .roles import ROLES

_hasher = PasswordHasher()  # argon2id with a random salt per hash (ASVS 2.4)
# Verified against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refused account change; ``str(err)`` is a user-facing message."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, email: str | None = None) -> list[str]:
    """ASVS 2.1: at least 12 characters, at most 128, not a common password."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    maximum = current_app.config["PASSWORD_MAX_LENGTH"]
    problems = []
    if len(password) < minimum:
        problems.append(translate(N_("Le mot de passe doit contenir au moins %(n)s caractères."), n=minimum))
    if len(password) > maximum:
        problems.append(translate(N_("Le mot de passe doit contenir au plus %(n)s caractères."), n=maximum))
    if password.lower() in _common_passwords():
        problems.append(translate(N_("Ce mot de passe est trop courant : choisissez-en un autre.")))
    local_part = (email or "").split("@")[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(translate(N_("Le mot de passe ne doit pas contenir votre identifiant.")))
    return problems


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(email: str, role: str, password: str, operation_codes=(), is_demo=False, locale="fr") -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError(translate(N_("« %(email)s » n'est pas une adresse e-mail valide."), email=email))
    if role not in ROLES:
        raise AccountError(
            translate(N_("Rôle inconnu « %(role)s » (rôles : %(roles)s)."), role=role, roles=", ".join(ROLES))
        )
    if find_user(email):
        raise AccountError(translate(N_("Un compte existe déjà pour %(email)s."), email=email))
    problems = password_problems(password, email)
    if problems:
        raise AccountError(" ".join(problems))
    operations = []
    for code in operation_codes:
        operation = db.session.scalar(select(Operation).where(Operation.code == code))
        if operation is None:
            raise AccountError(translate(N_("Opération inconnue : %(code)s."), code=code))
        operations.append(operation)
    user = User(email=email, role=role, password_hash=hash_password(password), is_demo=is_demo, locale=locale)
    user.operations = operations
    db.session.add(user)
    db.session.flush()
    return user


def disable_user(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise AccountError(translate(N_("Aucun compte pour %(email)s."), email=normalise_email(email)))
    user.active = False
    end_all_sessions(user, "disabled")
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise AccountError(translate(N_("Le mot de passe actuel est incorrect.")))
    problems = password_problems(new, user.email)
    if problems:
        raise AccountError(" ".join(problems))
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.now(timezone.utc)
    end_all_sessions(user, "password_changed")
    audit.record("password_changed", "users", user.id)


# --- Server-side sessions -------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(user: User) -> str:
    """A new random session identifier at every login (ASVS 3.2.1); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now))
    user.last_login_at = now
    return token


def end_session(token: str | None, reason: str) -> None:
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason)
    )


def end_all_sessions(user: User, reason: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason)
    )


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def user_for_session(user_id: str, token: str | None) -> User | None:
    """The user of a live session, or None: ended, idle too long, too old, or account disabled."""
    if not token or not str(user_id).isdigit():
        return None
    record = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
    )
    if record is None or record.user_id != int(user_id):
        return None
    now = datetime.now(timezone.utc)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    maximum = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if now - _aware(record.last_seen_at) > idle or now - _aware(record.created_at) > maximum:
        record.ended_at, record.end_reason = now, "expired"
        db.session.commit()
        return None
    user = db.session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    # Written at most once a minute: enough for the idle limit, light on the database.
    if now - _aware(record.last_seen_at) > timedelta(seconds=60):
        record.last_seen_at = now
        db.session.commit()
    return user
