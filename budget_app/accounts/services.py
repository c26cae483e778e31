"""Accounts: create, disable, change a password, assign to operations. Services flush;
the request or the command commits."""
from datetime import datetime, timezone

from sqlalchemy import select

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_, translate
from ..kernel.transactions import atomic
from . import hooks
from .assignments import assign, operation_by_code
from .models import User
from .passwords import hash_password, password_problems, verify_password
from .roles import ROLES
from .sessions import end_all_sessions


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def actor_name(actor: str | None) -> str:
    """An audit actor as people read it: "user:EMAIL" -> the person's name (their e-mail when
    they have none), "public" -> the public form, "cli:NAME" -> the command line."""
    actor = actor or ""
    if actor.startswith("user:"):
        user = find_user(actor[5:])
        return user.display_name if user is not None else actor[5:]
    if actor == "public":
        return translate(N_("Formulaire public"))
    if actor.startswith("cli:"):
        return translate(N_("Ligne de commande (%(name)s)"), name=actor[4:])
    return actor


@atomic
def create_user(email: str, role: str, password: str, operation_codes=(), is_demo=False, locale="fr",
                password_known: bool = True) -> User:
    """``password_known``: the password is the person's (a command, the seed); an invited
    account's random password is not, and its keys are made at its first login.
    ``user.notices``: what to show once (the recovery key of the alerts' first referent)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise DomainError(N_("« %(email)s » n'est pas une adresse e-mail valide."), email=email, field="email")
    if role not in ROLES:
        raise DomainError(N_("Rôle inconnu « %(role)s » (rôles : %(roles)s)."), role=role, roles=", ".join(ROLES), field="role")
    if find_user(email):
        raise DomainError(N_("Un compte existe déjà pour %(email)s."), email=email, field="email")
    problems = password_problems(password, email)
    if problems:
        raise DomainError(problems=problems)
    operations, unknown = [], []
    for code in operation_codes:
        operation = operation_by_code(code)  # without regard to case: « hl-rsa-2023 »
        if operation is None:
            unknown.append(code)
        elif operation not in operations:
            operations.append(operation)
    if unknown:
        raise DomainError(N_("Aucune opération n'a ce code : %(codes)s. Vérifiez-le (liste proposée en saisissant)."),
                          codes=", ".join(unknown), field="operations")
    user = User(email=email, role=role, password_hash=hash_password(password), is_demo=is_demo, locale=locale)
    db.session.add(user)
    db.session.flush()
    for operation in operations:
        assign(user.id, operation.id)
    hooks.account_event(user, "created", None)
    user.notices = []
    if password_known:
        user.notices.extend(hooks.password_verified(user, password, None) or [])
    return user


def disable_user(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise DomainError(N_("Aucun compte pour %(email)s."), email=normalise_email(email))
    user.active = False
    end_all_sessions(user, "disabled")
    return user


class WrongPassword(DomainError):
    """The current password given to change it is wrong (throttled like a login failure)."""


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise WrongPassword(N_("Le mot de passe actuel est incorrect."))
    problems = password_problems(new, user.email)
    if problems:
        raise DomainError(problems=problems)
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.now(timezone.utc)
    hooks.password_changed(user, current, new)
    end_all_sessions(user, "password_changed")
    audit.record("password_changed", "users", user.id)
