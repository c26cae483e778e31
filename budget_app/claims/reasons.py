"""Why a cost line is left out of a statement or a bilan (``LEFT_OUT_REASONS``), and a rule
of ``selection`` as SQL: its reason, the condition that leaves a line out and the same rule in
its positive form. Read by ``selection`` and ``unit_selection``."""
from dataclasses import dataclass

from sqlalchemy import and_, case, literal, null
from sqlalchemy.sql.elements import ColumnElement

from ..alerts.suspicions import SUSPICION_LABEL
from ..kernel.i18n import N_
from ..marks.services import HOLD_LABEL

# Why a cost line is left out (shown with the line).
LEFT_OUT_REASONS = {
    "already_claimed": N_("Déjà dans un autre bilan"),
    "covered_by_flat_rate": N_("Catégorie couverte par un taux forfaitaire"),
    "outside_eligibility": N_("Hors période de réalisation"),
    "outside_payment_period": N_("Acquittée hors de la période d'acquittement (date limite dépassée)"),
    "incomplete": N_("Pièces justificatives incomplètes"),
    "not_paid": N_("Non acquittée à la date du bilan"),
    "timesheet_not_approved": N_("Fiche de temps non approuvée"),
    # Staff evidence (primer §1, §4; staff.evidence).
    "staff_month_evidence": N_("Pièce du mois manquante (fiche de temps signée ou bulletin de paie)"),
    "staff_year_evidence": N_("Contrat ou lettre de mission de l'année manquant"),
    # Unit costs and lump sums (CPR 53(1)(b)-(c), ``unit_selection``).
    "deliverable_not_achieved": N_("Livrable non réalisé (montant forfaitaire : tout ou rien)"),
    "unit_evidence": N_("Preuve de réalisation manquante"),
    # Any hold (today: a line under suspicion): one neutral wording, see ``left_out_reasons``.
    "on_hold": HOLD_LABEL,
    "held": HOLD_LABEL,
}


def left_out_reasons(real_reason: bool = False) -> dict:
    """The reasons' labels. A held line says only "En attente" (the wording of any hold),
    except to the anti-fraud referent (``real_reason``), who sees why."""
    return {**LEFT_OUT_REASONS, "on_hold": SUSPICION_LABEL} if real_reason else dict(LEFT_OUT_REASONS)


@dataclass(frozen=True)
class Rule:
    reason: str  # a LEFT_OUT_REASONS code
    left_out: ColumnElement  # true when the line is left out for that reason
    kept: ColumnElement  # the same rule as a positive condition (a NULL leaves the line out)


def reason_of(rules: list[Rule]):
    """The first reason a line is left out, or NULL when it is included."""
    return case(*[(rule.left_out, literal(rule.reason)) for rule in rules], else_=null())


def kept_by(rules: list[Rule]):
    return and_(*[rule.kept for rule in rules])
