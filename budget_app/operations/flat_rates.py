"""Flat-rate amounts on their computed bases (Décret 2022-608 art. 8-II), shared by the
financing plan and the claims: one rule, one place.

Rates are percents (``Decimal("15")`` = 15 %). Costs are real costs by category code.
Every amount is rounded half-up to the cent once.
"""
from dataclasses import dataclass
from decimal import Decimal

from ..kernel.errors import DomainError, label_value
from ..kernel.formatting import format_money, format_percent
from ..kernel.i18n import N_, translate
from ..kernel.money import HUNDRED, ZERO, quantize
from .models import FLAT_RATES

DIRECT_CATEGORIES = ("PERSONNEL", "FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS", "NATURE")
INDIRECT_CODES = ("INDIRECTS_7", "INDIRECTS_15", "INDIRECTS_25")

# Categories a flat rate replaces: their real costs are not declared (primer §3).
# RESTANTS_40 (CPR 56, primer §9) covers every real-cost category except direct staff costs
# and participants' pay and allowances, which are declared on top: running costs, services,
# in-kind contributions, and the participants' costs other than their pay and allowances
# (COVERED_PARTS). PERSONNEL_20 (CPR 55(1)) replaces real staff costs.
COVERED_CATEGORIES = {
    "RESTANTS_40": ("FONCTIONNEMENT", "PRESTATIONS", "NATURE"),
    "PERSONNEL_20": ("PERSONNEL",),
}
# Category -> the sub-categories a rate leaves declared at real cost (the rest of the
# category is covered). A PARTICIPANTS line whose sub-category is not stated is covered.
DECLARED_PARTS = {
    "RESTANTS_40": {"PARTICIPANTS": ("REMUNERATION",)},
}


def covered_parts(rates) -> dict:
    """Category -> sub-categories still declared at real cost, for the partly covered categories."""
    parts: dict = {}
    for code in rates:
        for category, kept in DECLARED_PARTS.get(code, {}).items():
            parts[category] = tuple(kept)
    return parts


def is_covered(rates, category: str, subcategory: str | None = None) -> bool:
    """Whether a real cost of this category (and sub-category) is replaced by a chosen flat rate."""
    for code in rates:
        if category in COVERED_CATEGORIES.get(code, ()):
            return True
        kept = DECLARED_PARTS.get(code, {}).get(category)
        if kept is not None and subcategory not in kept:
            return True
    return False

# Computation order: the flat staff amount first, as it is part of the bases of the others.
ORDER = ("PERSONNEL_20", "INDIRECTS_7", "INDIRECTS_15", "INDIRECTS_25", "RESTANTS_40")


def ceiling(code: str) -> Decimal:
    return FLAT_RATES[code][1]


def check_flat_rate_choice(rates: dict[str, Decimal]) -> None:
    """Raise DomainError when a rate is unknown, not positive, above its ceiling, or the
    combination is not allowed."""
    for code, rate in rates.items():
        if code not in FLAT_RATES:
            raise DomainError(N_("Taux forfaitaire inconnu : %(code)s."), code=code)
        if rate <= 0:
            raise DomainError(N_("Le taux %(code)s doit être positif."), code=label_value(FLAT_RATES, code))
        if rate > ceiling(code):
            raise DomainError(
                N_("Le taux %(code)s ne peut dépasser %(ceiling)s %%."), code=label_value(FLAT_RATES, code), ceiling=ceiling(code)
            )
    # CPR 56(1): the 40 % rate covers all remaining costs, so it stands alone (except participants).
    if "RESTANTS_40" in rates and set(rates) - {"RESTANTS_40"}:
        raise DomainError(
            N_("Le taux forfaitaire des coûts restants (40 %, RPDC 56) ne peut être combiné avec aucun autre taux forfaitaire.")
        )
    # One method for indirect costs.
    if len(set(rates) & set(INDIRECT_CODES)) > 1:
        raise DomainError(N_("Un seul taux forfaitaire de coûts indirects peut être retenu."))


def flat_rate_bases(rates: dict[str, Decimal], costs: dict[str, Decimal]) -> dict[str, Decimal]:
    """The base of each chosen flat rate, from the real costs (and the flat staff amount)."""
    amounts = flat_rate_amounts(rates, costs)
    return {code: _base(code, costs, amounts) for code in ORDER if code in rates}


def flat_rate_amounts(rates: dict[str, Decimal], costs: dict[str, Decimal]) -> dict[str, Decimal]:
    """Amount of each chosen flat rate, computed in ORDER, each rounded half-up once."""
    amounts: dict[str, Decimal] = {}
    for code in ORDER:
        if code in rates:
            amounts[code] = quantize(_base(code, costs, amounts) * rates[code] / HUNDRED)
    return amounts


def _base(code: str, costs: dict[str, Decimal], amounts: dict[str, Decimal]) -> Decimal:
    def real(category):
        return costs.get(category, ZERO) or ZERO

    # Direct staff costs: real PERSONNEL, or the PERSONNEL_20 amount that replaces them.
    # Participants' pay and allowances are never part of a staff-cost base (primer §3).
    staff = amounts.get("PERSONNEL_20", real("PERSONNEL"))
    # In-kind contributions are left out of the bases: they are neither paid nor funded.
    direct = staff + real("FONCTIONNEMENT") + real("PRESTATIONS") + real("PARTICIPANTS")
    if code == "PERSONNEL_20":  # CPR 55(1): other direct costs
        return real("FONCTIONNEMENT") + real("PRESTATIONS") + real("PARTICIPANTS")
    if code in ("INDIRECTS_15", "RESTANTS_40"):  # CPR 54(b), 56
        return staff
    return direct  # INDIRECTS_7 (54(a)), INDIRECTS_25 (54(c)): eligible direct costs


# The article that sets each ceiling, as printed beside an applied rate.
REFERENCES = {
    "INDIRECTS_7": "RPDC 54 (a)", "INDIRECTS_15": "RPDC 54 (b)", "INDIRECTS_25": "RPDC 54 (c)",
    "RESTANTS_40": "RPDC 56", "PERSONNEL_20": "RPDC 55 (1)",
}


@dataclass(frozen=True)
class AppliedRate:
    """A flat rate as applied: its rate, its base, the amount (rate × base, half-up once)."""

    code: str
    rate: Decimal
    base: Decimal
    amount: Decimal

    @property
    def ceiling(self) -> Decimal:
        return ceiling(self.code)

    @property
    def reference(self) -> str:
        return REFERENCES.get(self.code, self.code)


def applied_rates(rates: dict, costs: dict, amounts: dict | None = None) -> dict:
    """Code -> AppliedRate for the chosen rates on these costs (``amounts``: the amounts as
    stored, e.g. frozen in a bilan; recomputed otherwise, by the same rule)."""
    bases = flat_rate_bases(rates, costs)
    amounts = amounts if amounts is not None else flat_rate_amounts(rates, costs)
    return {code: AppliedRate(code, Decimal(rates[code]), bases[code], amounts[code])
            for code in bases if code in amounts}


def applied_rate_text(applied: AppliedRate, locale: str | None = None) -> str:
    """« 22,00 % × 10 614,73 € (plafond RPDC 54 (c) : 25 %) = 2 335,24 € »: the one
    wording of an applied flat rate in pages, spreadsheets, PDF and commands."""
    return translate(N_("%(rate)s × %(base)s (plafond %(reference)s : %(ceiling)s) = %(amount)s"),
                     rate=format_percent(applied.rate, locale), base=format_money(applied.base, locale),
                     reference=applied.reference, ceiling=format_percent(applied.ceiling, locale, places=None),
                     amount=format_money(applied.amount, locale))
