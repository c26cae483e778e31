"""Which bilans an operation has (primer §8-9): how many interim bilans its length allows,
periods that follow each other, the final bilan ending on the operation's end date, its
deadline, and the warnings the dashboard and the bilan show.

Number of bilans by the operation's length (fse.gouv.fr, « bilan, contrôle de service fait
et paiement », primer §8): up to 12 months, the final bilan only; 12-24 months, at most
one interim bilan; 24-36 months, at least one; 36-48 months, at least two. Where the texts
give only a minimum, the product allows one interim bilan per started year but the last
(24-36 months: one or two; 36-48 months: two or three; and so on).

Periods (primer §9): the first bilan starts on the operation's start date, each next one
the day after the previous one ends, the final one ends on the operation's end date: no
gap and no overlap, so every cost belongs to exactly one bilan (``selection.Scope``).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_, translate, translate_label
from ..operations.models import Operation
from ..operations.plans import final_balance_deadline
from .models import BILAN_KINDS, Claim
from .periods import check_period

DAY = timedelta(days=1)


def operation_months(operation: Operation) -> int:
    """The operation's length in months, a started month counting as a whole one
    (01/01/2023-31/12/2024: 24 months; 15/01/2023-14/01/2024: 12 months)."""
    start, after = operation.start_date, operation.end_date + DAY
    months = (after.year - start.year) * 12 + after.month - start.month
    return months + (1 if after.day > start.day else 0)


@dataclass(frozen=True)
class BilanRule:
    months: int
    min_interim: int
    max_interim: int

    @property
    def text(self) -> DomainError:
        """The rule as it is quoted to the user (translated when shown)."""
        if self.months <= 12:
            return DomainError(N_("l'opération dure %(months)s mois : un seul bilan, le bilan final (jusqu'à 12 mois, un bilan final : fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr)"),
                               months=self.months)
        if self.months <= 24:
            return DomainError(N_("l'opération dure %(months)s mois : au plus un bilan intermédiaire, puis le bilan final (de 12 à 24 mois, au plus un bilan intermédiaire : fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr)"),
                               months=self.months)
        return DomainError(N_("l'opération dure %(months)s mois : au moins %(minimum)s et au plus %(maximum)s bilans intermédiaires, puis le bilan final (au moins un bilan intermédiaire de 24 à 36 mois, au moins deux de 36 à 48 mois ; au plus un par année commencée, sauf la dernière : fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr)"),
                           months=self.months, minimum=self.min_interim, maximum=self.max_interim)


def bilan_rule(operation: Operation) -> BilanRule:
    months = operation_months(operation)
    if months <= 12:
        return BilanRule(months, 0, 0)
    if months <= 24:
        return BilanRule(months, 0, 1)
    started_years = -(-months // 12)
    return BilanRule(months, started_years - 2, started_years - 1)


def bilans_of(operation: Operation) -> list[Claim]:
    return db.session.scalars(select(Claim).where(Claim.operation_id == operation.id).order_by(Claim.number)).all()


def next_start(operation: Operation) -> date | None:
    """Where the next bilan starts (None once the final bilan exists)."""
    existing = bilans_of(operation)
    if any(claim.kind == "final" for claim in existing):
        return None
    return existing[-1].period_end + DAY if existing else operation.start_date


def check_new_bilan(operation: Operation, start: date, end: date, final: bool) -> None:
    """Refuse a bilan the rules do not allow, saying which rule (primer §8-9)."""
    existing = bilans_of(operation)
    closing = next((claim for claim in existing if claim.kind == "final"), None)
    if closing is not None:
        raise DomainError(N_("Le bilan final (n° %(number)s) est déjà créé : aucun bilan ne vient après lui."),
                          number=closing.number)
    check_period(operation, start, end)
    expected = existing[-1].period_end + DAY if existing else operation.start_date
    if start != expected:
        raise DomainError(
            N_("Ce bilan doit commencer le %(expected)s, lendemain de la fin du bilan précédent (ou début de l'opération) : les bilans se suivent sans trou ni chevauchement, pour que chaque dépense soit dans un seul bilan."),
            expected=expected)
    if final:
        if end != operation.end_date:
            raise DomainError(N_("Le bilan final se termine à la date de fin de l'opération, le %(end)s (fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr)."),
                              end=operation.end_date)
        return
    if end >= operation.end_date:
        raise DomainError(N_("Ce bilan va jusqu'à la fin de l'opération : c'est le bilan final (cochez « bilan final », ou --final)."))
    rule = bilan_rule(operation)
    interims = sum(1 for claim in existing if claim.kind == "interim")
    if interims >= rule.max_interim:
        raise DomainError(N_("Bilan intermédiaire refusé : %(rule)s."), rule=rule.text)


def check_submission_order(claim: Claim) -> None:
    """A bilan is submitted after the earlier ones, so that its cumulated figures are known."""
    waiting = db.session.scalar(
        select(Claim.number).where(Claim.operation_id == claim.operation_id, Claim.number < claim.number,
                                   Claim.state == "draft").order_by(Claim.number)
    )
    if waiting is not None:
        raise DomainError(N_("Déposez d'abord le bilan n° %(number)s, qui le précède."), number=waiting)


def bilan_label(claim: Claim) -> str:
    """« Bilan intermédiaire n° 1 », « Bilan final n° 2 », in the reader's language."""
    return translate(N_("%(kind)s n° %(number)s"), kind=translate_label(BILAN_KINDS, claim.kind), number=claim.number)


def final_deadline(operation: Operation) -> date:
    """The final bilan is due at the latest 6 months after the end (primer §8)."""
    return final_balance_deadline(operation.end_date)


def late_submission(claim: Claim) -> DomainError | None:
    """A final bilan submitted after its deadline is accepted, with this warning (primer §9)."""
    if claim.kind != "final" or claim.submitted_at is None:
        return None
    deadline = final_deadline(claim.operation)
    if claim.submitted_at.date() > deadline:
        return DomainError(N_("Bilan final déposé le %(day)s, après sa date limite du %(deadline)s (fin de l'opération + 6 mois) : il reste recevable."),
                           day=claim.submitted_at.date(), deadline=deadline)
    return None


def warnings(operation: Operation, today: date) -> list[DomainError]:
    """What the dashboard and the bilans page warn about: a required interim bilan missing
    (once half the operation has passed, or the final bilan is created), a final bilan late."""
    existing = bilans_of(operation)
    found = []
    rule = bilan_rule(operation)
    submitted = sum(1 for claim in existing if claim.kind == "interim" and claim.state != "draft")
    has_final = any(claim.kind == "final" for claim in existing)
    halfway = operation.start_date + (operation.end_date - operation.start_date) / 2
    if submitted < rule.min_interim and (today > halfway or has_final):
        found.append(DomainError(N_("Bilan intermédiaire manquant : %(rule)s ; %(count)s déposé(s)."),
                                 rule=rule.text, count=submitted))
    final = next((claim for claim in existing if claim.kind == "final"), None)
    deadline = final_deadline(operation)
    if final is not None and final.state != "draft":
        late = late_submission(final)
        if late is not None:
            found.append(late)
    elif today > deadline:
        found.append(DomainError(N_("Bilan final en retard : il était dû le %(deadline)s (fin de l'opération + 6 mois : fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr) ; il reste recevable."),
                                 deadline=deadline))
    return found
