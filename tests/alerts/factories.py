"""Test objects of the alerts domain (also used by the route × role walk)."""
from datetime import date

from budget_app.alerts import filing, handling
from budget_app.alerts.models import AlertCostLine
from budget_app.claims import daci
from budget_app.kernel.extensions import db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CANARY = "CANARY-7f3a"


def file_alert(kind="fraud", facts=f"Facture gonflée {CANARY}", operation=None, attachments=(), **extra):
    report = filing.Report(
        kind=kind,
        facts=facts,
        operation_id=operation.id if operation is not None else None,
        operation_text="" if operation is not None else "Chantier d'insertion du Lot",
        persons=extra.pop("persons", "Jean Dupont\nMarie Martin"),
        dates=extra.pop("dates", "mars 2025"),
        **extra,
    )
    alert, secret = filing.file_alert(report, attachments)
    db.session.commit()
    return alert, secret


def open_as(referent, alert, password="correct horse battery staple"):
    """What a referent's login gives, outside a request: their private key opened with their
    password, then ``alert``'s content key from its wrap for them (kept for this test's
    application context). Raises if the referent holds no key of the alert."""
    from budget_app.alerts import keyring, referent_keys
    from budget_app.alerts.key_models import REFERENT

    referent = db.session.merge(referent)
    private = referent_keys.open_private_key(referent, password)
    wrap = keyring.wrap_of(alert.id, REFERENT, referent.id)
    if wrap is None:
        raise keyring.AlertLocked(alert.id)
    keyring.remember(alert, keyring.keybox.unseal(private, wrap.wrapped, keyring.purpose(alert.id)))
    return alert


def sample_world(users, operation_in, expense_id):
    """A transmitted alert with one attachment and one suspected line (expense
    ``expense_id``), and the controller's DACI. Returns (alert, declaration)."""
    referent = users["antifraud_referent"]
    alert, _secret = file_alert(operation=operation_in, attachments=[("preuve.pdf", PDF)])
    alert.reference = "SIG-2026-000001"
    alert.received_on = alert.received_on.replace(month=1, day=2) if alert.received_on.month > 1 else alert.received_on
    handling.change_state(alert, "acknowledged", referent, "reçu", "Nous avons bien reçu votre signalement.")
    handling.change_state(alert, "under_review", referent, "examen")
    handling.change_state(alert, "transmitted", referent, "fondé", "Transmis à l'OLAF.", recipient="olaf")
    db.session.add(AlertCostLine(alert_id=alert.id, operation_id=operation_in.id, line_type="expense",
                                 line_id=expense_id))
    declaration = daci.record_declaration(
        user=users["controller"], operation=operation_in, programme_year=None, signed_on=date(2026, 1, 5),
        valid_until=None, has_interest=False, interest_description="", recorded_by=users["admin"],
    )
    db.session.commit()
    return alert, declaration
