"""Simplified cost options in the financing plan (CPR 53(1)(b)-(c)): unit costs (coût
unitaire: a unit, an amount per unit, the units planned, the evidence a delivered unit needs)
and lump sums (montant forfaitaire: a deliverable, an amount, all or nothing).

A plan line of either kind belongs to a plan version, a year and a category, as a real-cost
line does; the plan carries them from one version to the next (``amendments``). Their amounts
are outside the bases of the flat rates unless the line says otherwise (``in_flat_rate_base``,
default no: a unit cost already prices everything it covers). A unit cost may be counted
from the participants' records (``counted_from_participants``: « participant ayant achevé le
parcours », ``units.completion``).
"""
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..kernel.audit.services import Audited
from ..kernel.db_types import Hours, Money
from ..kernel.errors import DomainError, Problem, label_value
from ..kernel.extensions import db
from ..kernel.i18n import N_, translate
from ..kernel.money import ZERO, cents
from .flat_rates import is_covered
from .models import COST_CATEGORIES

UNIT_LINE_KINDS = {
    "unit": N_("Coût unitaire"),
    "lump_sum": N_("Montant forfaitaire"),
}
# The claims' pseudo-category of simplified costs kept out of the flat-rate bases.
SIMPLIFIED = "SIMPLIFIES"
SIMPLIFIED_LABEL = N_("Coûts unitaires et montants forfaitaires (hors assiette des taux forfaitaires)")
COMPLETION_LABEL = N_("participant ayant achevé le parcours")
# The lines of a bilan's costs: the plan's categories, then the simplified costs outside the bases.
CLAIM_CATEGORIES = {**COST_CATEGORIES, SIMPLIFIED: SIMPLIFIED_LABEL}


class PlanUnitLine(Audited, db.Model):
    __tablename__ = "plan_unit_lines"
    __table_args__ = (
        CheckConstraint("kind IN ('unit', 'lump_sum')", name="kind_known"),
        CheckConstraint("category IN ({})".format(", ".join(f"'{code}'" for code in COST_CATEGORIES)),
                        name="category_known"),
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("(kind = 'unit' AND planned_units IS NOT NULL AND planned_units >= 0)"
                        " OR (kind = 'lump_sum' AND planned_units IS NULL AND counted_from_participants = false)",
                        name="units_only_for_unit_costs"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    # The unit (« heure de formation ») or the deliverable (« diagnostic territorial remis »).
    label: Mapped[str] = mapped_column(String(255), nullable=False)
    # Amount per unit, or the lump sum.
    rate: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    planned_units: Mapped[Decimal | None] = mapped_column(Hours())
    evidence_required: Mapped[str | None] = mapped_column(Text)
    in_flat_rate_base: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    counted_from_participants: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    version = relationship("PlanVersion", backref=backref(
        "unit_lines", order_by="(PlanUnitLine.year, PlanUnitLine.category, PlanUnitLine.id)",
        cascade="all, delete-orphan"))

    @property
    def planned_amount(self) -> Decimal:
        return planned_amount(self.kind, self.rate, self.planned_units)

    @property
    def claim_category(self) -> str:
        return claim_category(self.category, self.in_flat_rate_base)


def planned_amount(kind: str, rate: Decimal, planned_units: Decimal | None) -> Decimal:
    """A unit cost: units planned × amount per unit, half-up once; a lump sum: its amount."""
    if kind == "lump_sum":
        return cents(rate)
    return cents((planned_units or ZERO) * rate)


def claim_category(category: str, in_flat_rate_base: bool) -> str:
    """Where a simplified cost counts in a bilan: its category (inside the flat-rate bases)
    when the plan says so, else the simplified costs' own line (outside every base)."""
    return category if in_flat_rate_base else SIMPLIFIED


def plan_unit_amounts(unit_lines) -> list[tuple]:
    """(category, year, planned amount, in base) of each line, for ``plans.compute_plan``."""
    return [(line.category, line.year, line.planned_amount, line.in_flat_rate_base) for line in unit_lines]


def copy_unit_lines(old_version, new_version) -> None:
    """An amendment carries the unit costs and lump sums of the plan it amends."""
    for line in getattr(old_version, "unit_lines", ()):
        new_version.unit_lines.append(PlanUnitLine(
            kind=line.kind, year=line.year, category=line.category, label=line.label, rate=line.rate,
            planned_units=line.planned_units, evidence_required=line.evidence_required,
            in_flat_rate_base=line.in_flat_rate_base, counted_from_participants=line.counted_from_participants))


def check_unit_line(operation, kind: str, year: int, category: str, label: str, rate: Decimal,
                    planned_units: Decimal | None, in_flat_rate_base: bool, counted_from_participants: bool) -> list:
    """Every problem of a unit cost or lump sum line of the plan, each naming its field."""
    problems = []

    def fail(field, message, **values):
        problems.append(Problem(DomainError(message, **values), field=field))

    if kind not in UNIT_LINE_KINDS:
        fail("kind", N_("type inconnu (valeurs : %(values)s)"), values=", ".join(UNIT_LINE_KINDS))
    if category not in COST_CATEGORIES:
        fail("category", N_("catégorie inconnue (valeurs : %(values)s)"), values=", ".join(COST_CATEGORIES))
    if not (operation.start_date.year <= year <= operation.end_date.year):
        fail("year", N_("l'année %(year)s est hors de la période de l'opération (%(start)s-%(end)s)"),
             year=year, start=operation.start_date.year, end=operation.end_date.year)
    if not (label or "").strip():
        fail("label", N_("libellé obligatoire (l'unité ou le livrable)"))
    elif len(label.strip()) > 255:
        fail("label", N_("255 caractères au plus"))
    if rate is None or rate <= 0:
        fail("rate", N_("le montant doit être positif"))
    if kind == "unit" and (planned_units is None or planned_units < 0):
        fail("planned_units", N_("indiquez le nombre d'unités prévues (positif ou nul)"))
    if kind == "lump_sum" and planned_units is not None:
        fail("planned_units", N_("un montant forfaitaire n'a pas d'unités : tout ou rien"))
    if kind == "lump_sum" and counted_from_participants:
        fail("counted_from_participants", N_("seul un coût unitaire se compte à partir des participants"))
    plan = operation.current_plan
    if plan is None:
        fail("plan", N_("l'opération n'a pas de plan de financement"))
    elif in_flat_rate_base and category in COST_CATEGORIES:
        rates = {rate_line.code for rate_line in plan.flat_rates}
        if is_covered(rates, category):
            fail("in_flat_rate_base", N_("la catégorie %(category)s est couverte par un taux forfaitaire du plan : "
                                         "ce coût ne peut entrer dans son assiette"),
                 category=label_value(COST_CATEGORIES, category))
    return problems


def add_unit_line(operation, kind: str, year: int, category: str, label: str, rate: Decimal,
                  planned_units: Decimal | None = None, evidence_required: str | None = None,
                  in_flat_rate_base: bool = False, counted_from_participants: bool = False) -> PlanUnitLine:
    """A unit cost or lump sum added to the plan in force (audited as a plan line: ``Audited``)."""
    if kind == "unit" and counted_from_participants and not (label or "").strip():
        label = translate(COMPLETION_LABEL)
    problems = check_unit_line(operation, kind, year, category, label, rate, planned_units, in_flat_rate_base,
                               counted_from_participants)
    if problems:
        raise DomainError(problems=problems)
    line = PlanUnitLine(kind=kind, year=year, category=category, label=label.strip(), rate=rate,
                        planned_units=planned_units if kind == "unit" else None,
                        evidence_required=(evidence_required or "").strip() or None,
                        in_flat_rate_base=bool(in_flat_rate_base),
                        counted_from_participants=bool(counted_from_participants))
    operation.current_plan.unit_lines.append(line)
    db.session.flush()
    return line


def unit_line_of(operation, line_id) -> PlanUnitLine | None:
    """A unit line of one of the operation's plan versions (None when it belongs elsewhere)."""
    line = db.session.get(PlanUnitLine, line_id) if line_id is not None else None
    if line is None or line.version.operation_id != operation.id:
        return None
    return line
