import secrets
import string

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.roles import ROLES
from ..accounts.services import create_user, find_user
from ..extensions import db

DEMO_DOMAIN = "demo.budget-fse.invalid"


def demo_email(role: str) -> str:
    return f"{role.replace('_', '.')}@{DEMO_DOMAIN}"


def random_password(length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ensure_demo_accounts(operation_codes=()) -> list[tuple[str, str, str]]:
    """One demo account per role; returns (email, role, password) of those created now.
    Passwords are random and only returned here, to be printed once."""
    created = []
    for role in ROLES:
        email = demo_email(role)
        if find_user(email):
            continue
        password = random_password()
        codes = operation_codes if role in ("finance_officer", "controller") else ()
        create_user(email, role, password, operation_codes=codes, is_demo=True)
        created.append((email, role, password))
    return created


def assert_ready_for_production(app) -> None:
    """Production mode refuses to start while a demo account is active."""
    if app.config["BUDGET_APP_ENV"] != "production":
        return
    with app.app_context():
        if not sa_inspect(db.engine).has_table("users"):
            raise RuntimeError("Database not migrated: run `flask --app budget_app db upgrade` first.")
        demo = db.session.scalars(select(User.email).where(User.is_demo.is_(True), User.active.is_(True))).all()
        if demo:
            raise RuntimeError(
                "Production mode refuses to start while demo accounts are active: "
                + ", ".join(demo)
                + ". Disable them with `flask --app budget_app users disable EMAIL`."
            )
