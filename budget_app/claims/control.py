"""The service-done check (contrôle de service fait, CSF, primer §8): a controller holding
a valid conflict-of-interest declaration keeps, reduces or excludes each line of a
submitted bilan with a reason; finishing the check recomputes the flat rates on the
retained amounts (retained amounts replace declared ones, primer §5), the FSE+ due (the
final balance for the final bilan, primer §9) and the advance recovered on this payment."""
import secrets
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import case, func, select

from ..kernel.audit import services as audit
from ..kernel.errors import Conflict, DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money
from ..kernel.i18n import N_
from ..kernel.money import ZERO
from ..kernel.transactions import atomic
from .advances import advance_outstanding
from .computation import (
    ClaimFigures,
    advance_recovery,
    claim_figures,
    figures_from_json,
    figures_to_json,
    fse_due,
)
from .daci import controller_may_check
from .figures import CHECKED_STATES, cumulated_before, plan_context
from .lifecycle import move
from .models import CSF_REASONS, Claim, ClaimLine
from .sampling import extrapolation, sample_positions, to_json


def check_controller(claim: Claim, user) -> None:
    if claim.state != "submitted":
        raise DomainError(N_("Le contrôle de service fait porte sur un bilan déposé."))
    refusal = controller_may_check(user, claim.operation)
    if refusal is not None:
        raise refusal


@atomic
def decide_line(claim: Claim, line: ClaimLine, decision: str, user=None, amount: Decimal | None = None,
                reason: str | None = None, comment: str | None = None, version: int | None = None) -> None:
    """Keep, reduce (new amount) or exclude one line, with a reason from the list (primer
    §8). ``version`` is the line's version the controller saw (the screen always sends it):
    a line decided meanwhile by someone else is refused (Conflict), never overwritten
    silently. None decides on the line as it is now (a file read under the claim's lock)."""
    lock_claim(claim)
    check_controller(claim, user)
    if line.claim_id != claim.id:
        raise DomainError(N_("Cette ligne n'appartient pas au bilan."))
    db.session.refresh(line)  # under the claim's lock: the version is the last one committed
    if version is not None and version != line.version:
        raise Conflict(N_("Cette ligne a été décidée par quelqu'un d'autre pendant votre saisie : rien n'a été enregistré ; vérifiez sa décision actuelle puis recommencez."))
    comment = (comment or "").strip() or None
    if decision not in ("kept", "reduced", "excluded"):
        raise DomainError(N_("Décision inconnue."))
    if decision != "kept":
        if reason not in CSF_REASONS:
            raise DomainError(N_("Choisissez un motif dans la liste pour réduire ou écarter une ligne."), field="reason")
        if reason == "other" and not comment:
            raise DomainError(N_("Précisez le motif « Autre motif » dans le commentaire."), field="comment")
    if decision == "kept":
        retained, reason = line.declared_amount, (reason if reason in CSF_REASONS else None)
    elif decision == "excluded":
        retained = ZERO
    else:
        if amount is None:
            raise DomainError(N_("Indiquez le montant retenu."))
        retained = _reduced_amount(line, amount)
    line.decision = decision
    line.retained_amount = retained
    line.reason = reason
    line.comment = comment
    line.decided_at = datetime.now(timezone.utc)
    line.decided_by_id = getattr(user, "id", None)
    line.version += 1
    db.session.flush()


def lock_claim(claim: Claim) -> None:
    """The claim's row, locked until the request commits and read again: decisions on its
    lines and the end of its check take turns (SQLite: writers already do)."""
    db.session.refresh(claim, with_for_update=True)


def _reduced_amount(line: ClaimLine, amount: Decimal) -> Decimal:
    """A reduced line keeps less than it declared. A credit note (negative line) is reduced
    too: when the expense it reduces was itself cut by an earlier check, the credit note
    would take that line below zero (primer §9: never below zero for the line), so the
    controller retains only part of it, typed as a positive amount (its magnitude)."""
    if line.declared_amount < 0:
        if not (ZERO <= abs(amount) < -line.declared_amount):
            raise DomainError(N_("Pour un avoir, indiquez la part retenue (sans signe), inférieure à %(declared)s."),
                              declared=format_money(-line.declared_amount))
        return -abs(amount)
    if not (ZERO <= amount < line.declared_amount):
        raise DomainError(N_("Le montant retenu doit être positif et inférieur au montant déclaré."))
    return amount


def retained_figures(claim: Claim) -> ClaimFigures | None:
    """After (or during) the service-done check: the figures on the retained amounts, flat
    rates recomputed on the retained bases (primer §5: retained amounts replace declared)."""
    if claim.state == "draft":
        return None
    if claim.state in ("controlled", "paid") and claim.figures and "retained" in claim.figures:
        return figures_from_json(claim.figures["retained"])
    return _retained_now(claim)


def _retained_now(claim: Claim, sample=None) -> ClaimFigures:
    """``sample``: the sample's figures (``sampling``) when the check is by sample: with
    extrapolation, each category's retained base loses its correction, so the flat rates
    are recomputed on the corrected bases (primer §8)."""
    sample = sample if sample is not None else extrapolation(claim)
    sums: dict = {}
    rows = db.session.execute(
        select(
            ClaimLine.category,
            func.sum(case((ClaimLine.decision.is_(None), ClaimLine.declared_amount), else_=ClaimLine.retained_amount)),
        )
        .where(ClaimLine.claim_id == claim.id)
        .group_by(ClaimLine.category)
    ).all()
    for category, amount in rows:
        sums[category] = amount or ZERO
    if sample is not None:
        for category, (_base, correction) in sample.corrections.items():
            sums[category] = sums.get(category, ZERO) - correction
    declared = figures_from_json(claim.figures["declared"])
    # Same rates, agreed amount and plan total as at submission: the controller checks
    # what was declared. The cumulated figures are today's: the earlier bilans' retained
    # amounts and FSE+ due once they are controlled (primer §9).
    plan_total = declared.plan_total
    if plan_total is None:
        plan_total = plan_context(claim.operation)["plan_total"]
    before = cumulated_before(claim.operation, claim)
    return claim_figures(
        sums,
        dict(declared.flat_rate_percents),
        declared.rate,
        declared.agreed_fse,
        already_asked=before["already_asked"],
        plan_total=plan_total,
        previous_total=before["previous_total"],
        plan_categories=tuple(declared.categories),
        previous_by_category=before["previous_by_category"],
        final=claim.kind == "final",
    )


@atomic
def finish_control(claim: Claim, user=None) -> ClaimFigures:
    """Close the check: undecided lines are kept; flat rates recomputed on the retained
    bases; FSE+ due; the advance recovered on this payment (README, primer §5.5)."""
    lock_claim(claim)
    check_controller(claim, user)
    if claim.kind == "final":
        # The final balance rests on every retained cost (primer §9).
        unchecked = db.session.scalar(
            select(Claim.number).where(Claim.operation_id == claim.operation_id, Claim.number < claim.number,
                                       Claim.state.not_in(CHECKED_STATES)).order_by(Claim.number)
        )
        if unchecked is not None:
            raise DomainError(N_("Le solde se calcule sur toutes les dépenses retenues : terminez d'abord le contrôle du bilan n° %(number)s."),
                              number=unchecked)
    # The sample's figures before the unchecked lines are kept (primer §8): an error without
    # extrapolation makes the check exhaustive; with it, the corrections are frozen here.
    sample = extrapolation(claim)
    if sample is not None and sample.exhaustive_needed:
        raise DomainError(N_("L'échantillon contient des erreurs (taux d'erreur %(rate)s) et la convention ne prévoit pas "
                             "d'extrapolation : le contrôle devient exhaustif. Décidez les %(count)s ligne(s) hors "
                             "échantillon restantes avant de terminer."),
                          rate=sample.rate_text(), count=sample.unchecked_count)
    now = datetime.now(timezone.utc)
    for line in claim.lines.filter(ClaimLine.decision.is_(None)):
        line.decision, line.retained_amount, line.decided_at = "kept", line.declared_amount, now
        line.decided_by_id = getattr(user, "id", None)
        line.version += 1
    db.session.flush()
    retained = _retained_now(claim, sample)
    due = fse_due(retained, claim.fse_asked)
    recovered, _payment = advance_recovery(due, advance_outstanding(claim.operation, claim.id),
                                           final=claim.kind == "final",
                                           at_final_balance=claim.operation.advance_recovery == "final")
    move(claim, "control", "controlled")
    figures = {**claim.figures, "retained": figures_to_json(retained)}
    if sample is not None:
        figures["extrapolation"] = to_json(sample)
    claim.figures = figures
    claim.total_retained = retained.total
    claim.fse_due = due
    claim.advance_recovered = recovered
    claim.controlled_at = now
    claim.controlled_by_id = getattr(user, "id", None)
    db.session.flush()
    return retained


@atomic
def draw_sample(claim, user=None) -> set[int]:
    """Draw the sample of a submitted bilan, once (the seed is kept and audited)."""
    lock_claim(claim)
    check_controller(claim, user)
    percent = claim.operation.csf_sample_percent
    if percent is None:
        raise DomainError(N_("L'opération ne prévoit pas de contrôle par échantillon : le contrôle est exhaustif."))
    if claim.sample_seed is not None:
        raise DomainError(N_("L'échantillon de ce bilan est déjà tiré (graine %(seed)s)."), seed=claim.sample_seed)
    claim.sample_seed = secrets.randbelow(2**31 - 1) + 1
    claim.sample_percent = percent
    db.session.flush()
    positions = sample_positions(claim)
    audit.record("draw_sample", "claims", claim.id,
                 after={"seed": claim.sample_seed, "percent": percent,
                        "positions": ", ".join(str(position) for position in sorted(positions)),
                        "extrapolation": claim.operation.csf_extrapolation})
    return positions
