"""`flask daci record` and `flask daci withdraw`: the DACI register from the command line,
through the same service and refusals as its page (claims.daci). A finance team that
scripts its routine, or a test from outside, records a controller's declaration without
the web form."""
import click
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.policy import daci_signatories
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.money import parse_day
from ..kernel.transactions import command_transaction
from ..operations.services import find_operation
from .daci import declaration_in_force, record_declaration, today, withdraw_declaration
from .models import DaciDeclaration


def _person(email: str) -> User:
    """An active account among those who sign a DACI (the register page's choices)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise DomainError(N_("Aucun compte actif pour l'adresse %(email)s."), email=email)
    if db.session.scalar(select(User.id).where(User.id == user.id, daci_signatories())) is None:
        raise DomainError(N_("%(email)s ne fait pas partie des personnes qui signent une DACI."), email=email)
    return user


def _operation(code: str):
    operation = find_operation(code.strip())
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    return operation


def _day(text, option):
    try:
        return parse_day(text)
    except DomainError as error:
        raise DomainError(N_("%(option)s : %(error)s"), option=option, error=str(error)) from error


@click.command("record")
@click.argument("email")
@click.argument("code")
@click.option("--signed-on", "signed_on", required=True, help="Date de signature AAAA-MM-JJ.")
@click.option("--until", "valid_until", default=None, help="Fin de validité AAAA-MM-JJ (facultatif).")
@click.option("--interest", default=None, help="Intérêt déclaré (la personne se retire de ce dossier).")
@command_transaction
def record_command(email, code, signed_on, valid_until, interest):
    """Enregistre la DACI signée par EMAIL pour l'opération CODE."""
    declaration = record_declaration(
        user=_person(email), operation=_operation(code), programme_year=None,
        signed_on=_day(signed_on, "--signed-on"),
        valid_until=_day(valid_until, "--until") if valid_until else None,
        has_interest=bool(interest and interest.strip()), interest_description=interest or "", recorded_by=None,
    )
    state = "intérêt déclaré : ne contrôle pas ce dossier" if declaration.has_interest else "sans intérêt déclaré"
    click.echo(f"DACI n° {declaration.id} enregistrée : {email} · {code} · signée le "
               f"{declaration.signed_on:%d/%m/%Y} ({state}).")


@click.command("withdraw")
@click.argument("email")
@click.argument("code")
@command_transaction
def withdraw_command(email, code):
    """Retire les DACI en vigueur de EMAIL pour l'opération CODE (à compter d'aujourd'hui)."""
    user, operation = _person(email), _operation(code)
    day = today()
    found = [declaration for declaration in db.session.scalars(
        select(DaciDeclaration).where(DaciDeclaration.user_id == user.id, DaciDeclaration.operation_id == operation.id))
        if declaration_in_force(declaration, day)]
    if not found:
        raise DomainError(N_("Aucune DACI en vigueur de %(email)s pour %(code)s."), email=email, code=code)
    for declaration in found:
        withdraw_declaration(declaration, day)
    click.echo(f"{len(found)} DACI retirée(s) : {email} · {code}.")
