"""The transmission form of an irregularity (CPR art. 69 and annex XII fields): amounts
concerned and their EU share (computed from the suspected lines unless the referent
entered them), "reportable to the Commission" at 10 000 € of EU share or more, persons
pseudonymised unless the referent chooses to name them."""
from decimal import Decimal

from flask_babel import gettext as _

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.i18n import N_
from ..kernel.money import cents
from ..kernel.transactions import atomic
from ..operations.fse_rates import rate_of
from ..operations.plans import current_figures
from . import crypto, journal, keyring
from .filing import alert_content, transmission_details
from .models import KIND_LABELS, RECIPIENT_LABELS, STATE_LABELS, Alert
from .suspicions import CostLine, cost_line

# CPR art. 69(2) and annex XII: irregularities of 10 000 EUR or more of EU contribution
# are reported to the Commission.
COMMISSION_REPORTING_THRESHOLD = Decimal("10000.00")


def fse_rate(operation) -> Decimal | None:
    """The operation's FSE+ rate in percent: FSE+ / total when the agreement fixes the
    amount (primer §9, ``operations.fse_rates``)."""
    rate = getattr(operation, "fse_rate", None) if operation is not None else None
    if not isinstance(rate, Decimal):
        return None
    return rate_of(operation, current_figures(operation).total_cost).percent


def computed_amounts(alert: Alert) -> tuple[Decimal | None, Decimal | None]:
    """Total of the live suspected lines and its EU share at the operation's FSE+ rate,
    each rounded half-up once (FSE-PRIMER §5)."""
    lines = [cost_line(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None]
    amounts = [line.amount for line in lines if line is not None and line.amount is not None]
    if not amounts:
        return None, None
    total = cents(sum(amounts, Decimal("0")))
    rate = fse_rate(alert.operation)
    return total, (eu_share(total, rate) if rate is not None else None)


def eu_share(total: Decimal, rate_percent: Decimal) -> Decimal:
    """EU (FSE+) share of an amount at the operation's rate, rounded half-up once."""
    return cents(total * rate_percent / 100)


def amounts_concerned(alert: Alert) -> tuple[Decimal | None, Decimal | None]:
    """The amount concerned: the referent's, else the total of the suspected lines. The EU
    share: the referent's, else the amount concerned × the operation's FSE+ rate, as the
    form's help text says (12 500,00 € at 60 % → 7 500,00 €, whatever the lines hold),
    rounded half-up once (FSE-PRIMER §5)."""
    if alert.amount_concerned is not None:
        total = alert.amount_concerned
    else:
        total, _computed_share = computed_amounts(alert)
    if alert.eu_amount_concerned is not None:
        return total, alert.eu_amount_concerned
    rate = fse_rate(alert.operation)
    return total, (eu_share(total, rate) if total is not None and rate is not None else None)


def is_reportable_to_commission(alert: Alert) -> bool:
    _total, eu_share = amounts_concerned(alert)
    return eu_share is not None and eu_share >= COMMISSION_REPORTING_THRESHOLD


@atomic
def save_transmission_details(alert: Alert, *, amount, eu_amount, detected_on, period_start, period_end,
                              detection, measures, persons, reveal_persons) -> None:
    if period_start and period_end and period_end < period_start:
        raise DomainError(N_("La fin de la période concernée précède son début."))
    if eu_amount is not None and amount is not None and eu_amount > amount:
        raise DomainError(N_("La part UE ne peut pas dépasser le montant concerné."))
    alert.amount_concerned = amount
    alert.eu_amount_concerned = eu_amount
    alert.detected_on = detected_on
    alert.period_start = period_start
    alert.period_end = period_end
    alert.reveal_persons = bool(reveal_persons)
    alert.transmission_enc = crypto.encrypt_json(
        keyring.content_key(alert),
        {"detection": (detection or "").strip(), "measures": (measures or "").strip(), "persons": (persons or "").strip()}
    )
    db.session.flush()
    journal.record(alert, "transmission_form", amount=amount, eu_amount=eu_amount)


def persons_for_form(alert: Alert) -> list[str]:
    """Persons concerned, one a line; pseudonymised ("Personne 1"...) unless the referent
    chose to name them."""
    details = transmission_details(alert)
    text = details.get("persons") or alert_content(alert).get("persons") or ""
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if alert.reveal_persons:
        return names
    return [_("Personne %(n)s", n=index) for index in range(1, len(names) + 1)]


def transmission_rows(alert: Alert) -> list[tuple[str, object]]:
    """The fields of the irregularity report (CPR art. 69, annex XII), in order:
    (label, value, kind) with kind "text", "money", "percent" or "date"; value may be None."""
    operation = alert.operation
    organisation = getattr(operation, "organisation", None) if operation is not None else None
    details = transmission_details(alert)
    content = alert_content(alert)
    total, eu_share = amounts_concerned(alert)
    rate = fse_rate(operation)
    procedure = _(STATE_LABELS[alert.state])
    if alert.transmitted_to:
        procedure += " — " + _("transmis à %(who)s le %(day)s", who=_(RECIPIENT_LABELS[alert.transmitted_to]),
                                day=format_day(alert.transmitted_on))
    detection = _("Signalement reçu par le canal d'alerte le %(day)s", day=format_day(alert.received_on))
    if details.get("detection"):
        detection += ". " + details["detection"]
    return [
        (_("Référence du signalement"), alert.reference, "text"),
        (_("Opération"), f"{operation.code} — {operation.title}" if operation else content.get("operation_text", ""), "text"),
        (_("Bénéficiaire"), getattr(organisation, "name", "") if organisation is not None else "", "text"),
        (_("Type d'irrégularité"), _(KIND_LABELS[alert.kind]), "text"),
        (_("Montant concerné (dépenses)"), total, "money"),
        (_("Taux FSE+"), rate, "percent"),
        (_("Part UE concernée"), eu_share, "money"),
        (
            _("À signaler à la Commission (part UE ≥ 10 000 €)"),
            _("Oui") if is_reportable_to_commission(alert) else _("Non"),
            "text",
        ),
        (_("Mode de détection"), detection, "text"),
        (_("Date de détection"), alert.detected_on or alert.received_on, "date"),
        (_("Début de la période concernée"), alert.period_start, "date"),
        (_("Fin de la période concernée"), alert.period_end, "date"),
        (_("Personnes concernées"), "\n".join(persons_for_form(alert)), "text"),
        (_("Mesures prises"), details.get("measures", ""), "text"),
        (_("État de la procédure"), procedure, "text"),
    ]


def transmission_lines(alert: Alert) -> list[CostLine]:
    lines = []
    for link in alert.cost_lines:
        if link.lifted_at is None:
            line = cost_line(link.line_type, link.line_id)
            if line is not None:
                lines.append(line)
    return lines
