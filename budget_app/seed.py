"""`flask seed`: the demonstration data. The operations of ``fixtures/`` (TOML, README
"Operations"), loaded through the same service as `flask operations load`, and one demo
account per role with a random password printed once. A second run changes nothing and
says so. Production mode refuses to start while a demo account is active."""
import secrets
import string
from dataclasses import dataclass, field
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from .accounts.models import User
from .accounts.policy import checks_service_done, records_participants, role_limited_to_assignments
from .accounts.roles import CASEWORKER, FINANCE_OFFICER, ROLE_LABELS, ROLES
from .accounts.services import create_user, find_user
from .claims.daci import record_declaration
from .kernel.config import PROJECT_ROOT
from .kernel.errors import DomainError
from .kernel.extensions import db
from .kernel.i18n import translate
from .kernel.transactions import command_transaction
from .kernel.formatting import today_in_paris
from .operations.loader import SEED_KEPT, load_operation_file
from .operations.services import find_operation
from .participants.imports import import_participants
from .participants.models import Participant
from .expenses import operation_documents
from .staff import evidence
from .staff.imports import import_staff, import_timesheets
from .staff.models import StaffAssignment

FIXTURES_DIR = PROJECT_ROOT / "fixtures"
EXAMPLES_DIR = FIXTURES_DIR / "examples"
# Synthetic participants (obviously fictitious names « Démo-NNN ») of the rSa action, 2023-2024.
PARTICIPANTS_OPERATION = "HL-RSA-2023"
PARTICIPANTS_FILE = EXAMPLES_DIR / "participants-HL-RSA-2023.csv"
# The staff operation of the seed gets the example people and timesheets with their evidence,
# but for one signed timesheet: the demo controller sees a complete dossier and one line left
# out of a bilan for its missing document (primer §1, §4).
STAFF_DEMO = "HL-RSA-2023"
DEMO_MISSING = ("HL-0587", date(2023, 2, 1))
DEMO_DOMAIN = "demo.budget-fse.invalid"


@dataclass
class SeedResult:
    changed: bool = False
    messages: list = field(default_factory=list)
    # Operation codes the demo finance officer and controller are assigned to.
    demo_assignments: list = field(default_factory=list)


def load_seed_operations(directory=None) -> SeedResult:
    """Load every ``*.toml`` of ``fixtures/`` in name order. An operation already there with a
    different plan is left alone (amendments go through `operations load --amendment`)."""
    result = SeedResult()
    for path in sorted((directory or FIXTURES_DIR).glob("*.toml")):
        savepoint = db.session.begin_nested()
        try:
            loaded = load_operation_file(path)
        except DomainError as exc:
            savepoint.rollback()
            if any(found.field == "operation.code" for found in exc.problems):
                result.messages.append(translate(SEED_KEPT, file=path.name))
                continue
            raise DomainError(problems=[f"{path.name} {found}".strip() for found in exc.problems]) from exc
        savepoint.commit()
        result.messages += loaded.messages
        result.changed |= loaded.action != "unchanged"
        result.demo_assignments.append(loaded.code)
    return result


def _demo_pdf(title: str, lines: list[str]) -> bytes:
    from fpdf import FPDF  # loaded only by the seed (lean start)

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=14)
    document.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    document.set_font("helvetica", size=11)
    for line in ["Document de démonstration (données fictives)", *lines]:
        document.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def seed_staff_evidence(result: SeedResult) -> None:
    """The example staff and approved timesheets of ``fixtures/examples`` on HL-RSA-2023, and
    their evidence: contract and payslips of each year (mission letter for the fixed share),
    the signed timesheet or payslip of each month, except ``DEMO_MISSING``. Once only."""
    operation = find_operation(STAFF_DEMO)
    if operation is None or db.session.scalar(
            select(StaffAssignment.id).where(StaffAssignment.operation_id == operation.id).limit(1)):
        return
    import_staff(operation, (EXAMPLES_DIR / "personnel-exemple.csv").read_bytes(), filename="personnel-exemple.csv")
    import_timesheets(operation, (EXAMPLES_DIR / "temps-exemple.csv").read_bytes(), filename="temps-exemple.csv",
                      approved=True)
    for assignment in db.session.scalars(select(StaffAssignment).where(StaffAssignment.operation_id == operation.id)):
        person = assignment.person
        who = f"{person.first_name} {person.last_name} ({person.registration_number})"
        months = sorted(sheet.month for sheet in assignment.timesheets)
        for year in sorted({month.year for month in months}):
            for kind in evidence.EXPECTED_PER_YEAR[assignment.method]:
                label = translate(evidence.STAFF_DOCUMENT_KINDS[kind])
                share = assignment.fixed_percent if kind == "mission_letter" else None
                evidence.attach_document(assignment, kind, f"{kind}-{person.registration_number}-{year}.pdf",
                                         _demo_pdf(label, [who, f"Année {year}"]), evidence.Coverage(year=year,
                                                                                                      share=share))
        for month in months:
            if (person.registration_number, month) == DEMO_MISSING:
                continue
            kind = evidence.REQUIRED_PER_MONTH[assignment.method]
            evidence.attach_document(assignment, kind, f"{kind}-{person.registration_number}-{month:%Y-%m}.pdf",
                                     _demo_pdf(translate(evidence.STAFF_DOCUMENT_KINDS[kind]),
                                               [who, f"Mois {month:%m/%Y}", "Signé par l'agent et son responsable"]),
                                     evidence.Coverage(month=month))
    result.changed = True
    result.messages.append(f"{STAFF_DEMO} : personnel et fiches de temps d'exemple chargés avec leurs pièces "
                           f"(sauf la fiche signée de {DEMO_MISSING[0]} de {DEMO_MISSING[1]:%m/%Y}).")


def seed_operation_documents(result: SeedResult) -> None:
    """HL-RSA-2023's signed agreement and publicity evidence (demonstration PDFs), so the demo
    controller has the operation's documents to open (issue 22). Once only."""
    operation = find_operation(STAFF_DEMO)
    if operation is None or operation_documents.active_documents(operation.id):
        return
    title = f"{operation.code} - {operation.title}"  # the PDF font is Latin-1
    operation_documents.attach_document(operation, "agreement", f"convention-{operation.code}.pdf", _demo_pdf(
        "Convention attributive de subvention FSE+", [title, "Signée par le bénéficiaire et le service gestionnaire"]))
    operation_documents.attach_document(
        operation, "publicity", f"affiche-{operation.code}.pdf",
        _demo_pdf("Affiche FSE+ à l'accueil", [title, "Emblème de l'Union européenne et mention « Cofinancé par "
                                                    "l'Union européenne » (RPDC art. 50)"]),
        description="affiche à l'accueil")
    result.changed = True
    result.messages.append(f"{STAFF_DEMO} : convention et affiche de démonstration jointes.")


def demo_email(role: str) -> str:
    return f"{role.replace('_', '.')}@{DEMO_DOMAIN}"


# One demo account per role, and a second finance officer: a timesheet is approved by
# someone other than the person who entered it (four eyes), so the demo needs two.
DEMO_ACCOUNTS = [(role, demo_email(role), None) for role in ROLES] + [
    (FINANCE_OFFICER, f"finance.officer.2@{DEMO_DOMAIN}", 2)]


def random_password(length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ensure_demo_accounts(operation_codes=(), notices=None) -> list[tuple[str, str, str]]:
    """One demo account per role; returns (email, role, password) of those created now.
    Passwords are random and only returned here, to be printed once. ``notices`` receives
    what else is shown once (the alerts' recovery key, made with the demo referent)."""
    created = []
    for role, email, number in DEMO_ACCOUNTS:
        if find_user(email):
            continue
        password = random_password()
        codes = operation_codes if role_limited_to_assignments(role) else ()
        if records_participants(role):  # the demo caseworker accompanies the rSa action's participants
            codes = [code for code in operation_codes if code == PARTICIPANTS_OPERATION]
        user = create_user(email, role, password, operation_codes=codes, is_demo=True)
        user.full_name = f"{ROLE_LABELS[role]}{f' {number}' if number else ''} (démo)"
        if notices is not None:
            notices.extend(user.notices)
        if checks_service_done(role):
            # The demo controller can check at once: a DACI (no interest) for each demo operation.
            for code in codes:
                record_declaration(user=user, operation=find_operation(code), programme_year=None,
                                   signed_on=today_in_paris(), valid_until=None, has_interest=False,
                                   interest_description=None, recorded_by=None)
        created.append((email, role, password))
    return created


def seed_participants() -> str | None:
    """The synthetic participants of HL-RSA-2023, through the import service, once: an
    operation that already has participants is left alone."""
    operation = find_operation(PARTICIPANTS_OPERATION)
    if operation is None or operation.status == "closed" or db.session.scalar(
            select(Participant.id).where(Participant.operation_id == operation.id).limit(1)):
        return None
    report = import_participants(operation, PARTICIPANTS_FILE.read_bytes(), filename=PARTICIPANTS_FILE.name,
                                 user=find_user(demo_email(CASEWORKER)))
    return f"{PARTICIPANTS_OPERATION} : {report.count('new')} participants fictifs importés."


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


@click.command("seed")
@with_appcontext
@command_transaction
def seed_command():
    """Load the seed operations and the demo accounts; a second run changes nothing."""
    loaded = load_seed_operations()
    seed_staff_evidence(loaded)
    seed_operation_documents(loaded)
    notices = []
    created = ensure_demo_accounts(operation_codes=loaded.demo_assignments, notices=notices)
    participants = seed_participants()
    for line in loaded.messages + ([participants] if participants else []):
        click.echo(line)
    if created:
        click.echo("Comptes de démonstration créés (mots de passe affichés une seule fois) :")
        for email, role, password in created:
            click.echo(f"  {role:<20} {email:<45} {password}")
        click.echo("L'administrateur et le référent activent leur double authentification (TOTP) à leur "
                   "première connexion.")
    for kind, text in notices:
        if kind == "recovery_key":
            click.echo("Clé de secours des signalements — DÉMONSTRATION (affichée une seule fois ; une vraie "
                       "installation l'imprime et la garde hors ligne) :")
            click.echo(f"  {text}")
    if not created and not loaded.changed and not participants:
        click.echo("Données de démonstration déjà chargées : rien à faire.")
