"""Accounts managed by an administrator on screen, through the same rules as the CLI
(``services``): create an account (the person sets their own password through a single-use
link, valid 48 h, that the admin hands over), disable it, assign and unassign operations."""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from . import hooks
from .assignments import assign, operation_by_code, unassign
from .models import User
from .passwords import hash_password, password_problems
from .services import create_user
from .sessions import end_all_sessions

SETUP_LINK_HOURS = 48


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_setup_token(user: User, tell: bool = True) -> str:
    """A fresh single-use token (the previous one stops working); only its digest is kept.
    A new link for an admin or a referent is told to the referents (``tell``)."""
    token = secrets.token_urlsafe(32)
    if tell:
        hooks.account_event(user, "setup_link", None)
    user.setup_token_hash = _digest(token)
    user.setup_expires_at = datetime.now(timezone.utc) + timedelta(hours=SETUP_LINK_HOURS)
    db.session.flush()
    return token


@atomic
def invite_user(email: str, role: str, full_name: str | None, operation_codes=()) -> tuple[User, str]:
    """An account whose password nobody knows yet, and the token of its set-up link."""
    unknown = secrets.token_urlsafe(48)  # random, never shown: the person sets their own
    user = create_user(email, role, unknown, operation_codes=operation_codes, password_known=False)
    user.full_name = (full_name or "").strip() or None
    return user, new_setup_token(user, tell=False)


def user_for_token(token: str) -> User | None:
    """The account of a set-up link still valid (unused, less than 48 h old), else None."""
    if not token:
        return None
    user = db.session.scalar(select(User).where(User.setup_token_hash == _digest(token)))
    if user is None or not user.active or user.setup_expires_at is None:
        return None
    expires = user.setup_expires_at
    if expires.tzinfo is None:  # SQLite gives naive datetimes back
        expires = expires.replace(tzinfo=timezone.utc)
    return user if expires > datetime.now(timezone.utc) else None


@atomic
def set_first_password(token: str, password: str) -> User:
    user = user_for_token(token)
    if user is None:
        raise DomainError(N_("Ce lien n'est plus valable (déjà utilisé ou plus de 48 h) : demandez-en un nouveau "
                             "à un administrateur."))
    problems = password_problems(password, user.email)
    if problems:
        raise DomainError(problems=problems)
    user.password_hash = hash_password(password)
    user.password_changed_at = datetime.now(timezone.utc)
    user.setup_token_hash = None  # single use
    user.setup_expires_at = None
    end_all_sessions(user, "password_set")
    # Set without the old password: keys opened by the old one are lost (alerts: access again
    # only by another referent's grant).
    hooks.password_reset(user)
    return user


@atomic
def set_active(user: User, active: bool) -> None:
    was_active = user.active
    user.active = active
    if not active:
        end_all_sessions(user, "disabled")
    elif not was_active:
        hooks.account_event(user, "enabled", None)


@atomic
def change_assignment(user: User, code: str, assigned: bool) -> str:
    operation = operation_by_code((code or "").strip())
    if operation is None:
        raise DomainError(N_("Aucune opération n'a ce code : %(codes)s. Vérifiez-le (liste proposée en saisissant)."),
                          codes=code, field="code")
    (assign if assigned else unassign)(user.id, operation.id)
    return operation.code  # as recorded, whatever its case when typed
