"""An amendment decided with its difference (issue 22): the plan in force and the proposed
one side by side, each cost line, flat rate (rate and amount), resource, date and FSE+ figure
with its change, and the effect on the FSE+ maximum (rate × total eligible cost); the
administrator approves with the figures restated (``confirmation``)."""
from dataclasses import dataclass
from decimal import Decimal

from ..kernel.money import ZERO
from .amendments import requested_amendment
from .models import COST_CATEGORIES, FLAT_RATES, AmendmentRequest
from .unit_lines import plan_unit_amounts
from .plans import compute_plan, current_figures, final_balance_deadline, payment_deadline




@dataclass(frozen=True)
class Difference:
    kind: str  # cost | flat_rate | flat_amount | total | resource | setting
    key: str  # category, flat-rate code, resource kind, setting name
    detail: str  # year, resource name
    old: object
    new: object

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def delta(self):
        both = isinstance(self.old, Decimal) and isinstance(self.new, Decimal)
        return self.new - self.old if both else None


def amendment_difference(request: AmendmentRequest) -> dict:
    operation = request.operation
    plan, settings = requested_amendment(request)
    version = operation.current_plan
    old = current_figures(operation)
    rate = settings["fse_rate"] if settings["fse_rate"] is not None else operation.fse_rate
    amount = settings["fse_amount"] if settings["fse_amount"] is not None else operation.fse_amount
    new = compute_plan([(line.category, line.year, line.amount) for line in plan.costs],
                       {line.code: line.rate for line in plan.flat_rates},
                       [(line.kind, line.name, line.amount) for line in plan.resources], rate, amount,
                       units=plan_unit_amounts(version.unit_lines) if version else ())
    rows = []
    for category in COST_CATEGORIES:
        for year in sorted(set(old.costs.get(category, {})) | set(new.costs.get(category, {}))):
            rows.append(Difference("cost", category, str(year), old.costs.get(category, {}).get(year, ZERO),
                                   new.costs.get(category, {}).get(year, ZERO)))
    old_rates = {line.code: line.rate for line in version.flat_rates} if version else {}
    new_rates = {line.code: line.rate for line in plan.flat_rates}
    for code in FLAT_RATES:
        if code in old_rates or code in new_rates:
            rows.append(Difference("flat_rate", code, "", old_rates.get(code), new_rates.get(code)))
            rows.append(Difference("flat_amount", code, "", old.flat_rate_amounts.get(code, ZERO),
                                   new.flat_rate_amounts.get(code, ZERO)))
    rows.append(Difference("total", "total", "", old.total_cost, new.total_cost))
    names = []
    for line in old.resources + new.resources:
        if (line["kind"], line["name"]) not in names:
            names.append((line["kind"], line["name"]))
    for kind, name in names:
        rows.append(Difference("resource", kind, name,
                               sum((r["amount"] for r in old.resources if (r["kind"], r["name"]) == (kind, name)), ZERO),
                               sum((r["amount"] for r in new.resources if (r["kind"], r["name"]) == (kind, name)), ZERO)))
    rows += [
        Difference("setting", "end_date", "", operation.end_date, settings["end_date"] or operation.end_date),
        Difference("setting", "payment_deadline", "", payment_deadline(operation),
                   settings["payment_deadline"] or operation.payment_deadline
                   or final_balance_deadline(settings["end_date"] or operation.end_date)),
        Difference("setting", "fse_rate", "", operation.fse_rate, rate),
        Difference("setting", "fse_amount", "", operation.fse_amount, amount),
        Difference("setting", "fse_max", "", old.fse_max, new.fse_max),
    ]
    return {"rows": rows, "plan": plan, "old": old, "new": new, "confirmation": confirmation(new.total_cost, amount)}


def confirmation(total: Decimal, fse_amount: Decimal) -> str:
    """What the approval form carries back: the figures the administrator saw."""
    return f"{total}/{fse_amount}"
