"""An expense line's eligible amount and its computation as a finance officer checks it
(``rules`` applies them; Decimal only, rounded half-up once through kernel.money)."""
from decimal import Decimal

from ..kernel.formatting import format_money, format_percent
from ..kernel.i18n import N_, translate
from ..kernel.money import HUNDRED, ZERO, quantize


def eligible_amount(amount_excl_vat: Decimal, vat: Decimal, vat_recoverable: bool, allocation_percent: Decimal,
                    vat_prorata: Decimal | None = None) -> Decimal:
    """(amount excl. VAT + VAT when not recoverable) × allocation key, half-up to the cent once.
    Recoverable VAT is not an eligible cost (CPR 64(1)(c)); partly recoverable VAT
    (``vat_prorata``, the beneficiary's recovery pro-rata) counts its unrecovered part:
    1 000,00 € + 200,00 € × (100 % − 35 %) = 1 130,00 €, still rounded once."""
    if vat_recoverable:
        unrecovered = ZERO
    elif vat_prorata is not None:
        unrecovered = vat * (HUNDRED - vat_prorata) / HUNDRED
    else:
        unrecovered = vat
    return quantize((amount_excl_vat + unrecovered) * allocation_percent / HUNDRED)


def eligible_computation(expense, locale: str | None = None) -> str:
    """The computation as a finance officer checks it: "(1 000,00 € + 200,00 €) × 50,00 % = 600,00 €"."""
    amount = format_money(expense.amount_excl_vat, locale)
    key = format_percent(expense.allocation_percent, locale)
    result = format_money(expense.eligible_amount, locale)
    if expense.vat_recoverable or not expense.vat:
        base = amount
    elif getattr(expense, "vat_partly_recoverable", False) and expense.vat_prorata is not None:
        # « (1 000,00 € HT + TVA 200,00 € × (100 % − 35 % prorata)) × 100,00 % = 1 130,00 € »
        template = N_("(%(amount)s HT + TVA %(vat)s × (100 %% − %(prorata)s prorata))")
        values = {"amount": amount, "vat": format_money(expense.vat, locale),
                  "prorata": format_percent(expense.vat_prorata, locale, places=None)}
        base = template % values if locale == "fr" else translate(template, **values)
    else:
        base = f"({amount} + {format_money(expense.vat, locale)})"
    return f"{base} × {key} = {result}"
