"""A world with something waiting for each role, on 16/12/2024 (a Monday), and an SMTP
server from aiosmtpd on 127.0.0.1 that keeps what it receives."""
import socket
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from budget_app.alerts.filing import Report, file_alert
from budget_app.claims.models import Claim
from budget_app.kernel.extensions import db
from budget_app.staff.models import Person, StaffAssignment, Timesheet
from tests.claims.factories import declare

TODAY = date(2024, 12, 16)


@pytest.fixture(autouse=True)
def own_alert_key(app, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")


@pytest.fixture
def world(app, make_user, make_operation):
    entering = make_user("finance_officer", email="ana@example.org", full_name="Ana Martin")
    approving = make_user("finance_officer", email="bruno@example.org", full_name="Bruno Petit", locale="en")
    controller = make_user("controller", email="chloe@example.org", full_name="Chloé Roux")
    admin = make_user("admin", email="admin@example.org", full_name="Alice Admin")
    referent = make_user("antifraud_referent", email="referent@example.org", full_name="Rémi Référent")
    auditor = make_user("auditor", email="auditor@example.org")
    operation = make_operation("HL-RSA-2023", members=[entering, approving, controller])
    declare(controller, operation, recorded_by=admin)
    # A November timesheet entered by Ana, waiting for a second finance officer (Bruno):
    # due by the end of the following month, 31/12/2024.
    person = Person(registration_number="M00001", last_name="Durand", first_name="Léa")
    assignment = StaffAssignment(operation_id=operation.id, person=person, method="hourly")
    sheet = Timesheet(assignment=assignment, month=date(2024, 11, 1), hours_on_operation=Decimal("100"),
                      hours_worked=Decimal("151.67"), state="submitted", entered_by_id=entering.id)
    # Interim bilan n° 1 submitted on 01/10/2024: checked within 80 days, by 20/12/2024.
    claim = Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 12, 31),
                  state="submitted", submitted_at=datetime(2024, 10, 1, 9, 0, tzinfo=timezone.utc),
                  total_eligible=Decimal("10.00"), fse_asked=Decimal("6.00"))
    db.session.add_all([person, assignment, sheet, claim])
    db.session.commit()
    # An anonymous alert received on Monday 16/12/2024: acknowledged within 7 working days,
    # 25/12 being a holiday: by Thursday 26/12/2024 (loi 2022-401).
    alert, _secret = file_alert(Report(kind="fraud", facts="Facture gonflée CANARY-7f3a", operation_id=operation.id),
                                now=datetime(2024, 12, 16, 10, 0, tzinfo=timezone.utc))
    db.session.commit()
    return {"operation": operation, "entering": entering, "approving": approving, "controller": controller,
            "admin": admin, "referent": referent, "auditor": auditor, "sheet": sheet, "claim": claim, "alert": alert}


class Sink:
    """What the SMTP server received; ``refuse`` messages are answered 451 (try later);
    ``pipelining``: PIPELINING offered (RFC 2920), as production relays do."""

    def __init__(self):
        self.messages = []
        self.refuse = 0
        self.pipelining = False
        self.refuse_recipient = None  # RCPT TO this address is answered 550

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse_recipient:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    sink = Sink()
    with socket.socket() as probe:  # a free port on the loopback, for this test only
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_DEFAULT_SENDER="suivi-fse@example.org",
                      BUDGET_APP_BASE_URL="https://fse.example.org")
    yield sink
    controller.stop()


def bodies_for(sink, email):
    return [message for message in sink.messages if message["To"] == email]


@pytest.fixture
def three_missing(world, make_user, make_operation):
    """Three controllers without a DACI, each on an operation with a bilan to check: Dan on
    HL-RSA-2023 (bilan submitted 01/10/2024, so his DACI is due then), Ève and Fanny on
    HL-BIS-2024 (bilan submitted 05/11/2024). The recorders read one item, « 3 DACI à
    enregistrer », due 01/10/2024 (the earliest)."""
    from budget_app.accounts.assignments import assign

    dan = make_user("controller", email="dan@example.org", full_name="Dan Nouveau")
    eve = make_user("controller", email="eve@example.org", full_name="Ève Nouvelle")
    fanny = make_user("controller", email="fanny@example.org", full_name="Fanny Neuve")
    other = make_operation("HL-BIS-2024", members=[eve, fanny])
    assign(dan.id, world["operation"].id)
    db.session.add(Claim(operation_id=other.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 12, 31),
                         state="submitted", submitted_at=datetime(2024, 11, 5, 9, 0, tzinfo=timezone.utc),
                         total_eligible=Decimal("10.00"), fse_asked=Decimal("6.00")))
    db.session.commit()
    return {"dan": dan, "eve": eve, "fanny": fanny, "other": other}
