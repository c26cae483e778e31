"""Staff payment dates (primer §9): a staff month counts when its salary was paid by the
payment deadline (December's salaries paid in January count) and by the bilan's date, as
an expense does. The conditions are SQL over ``StaffCostLine.paid_on``, for the bilan's
selection rules (``claims.selection.staff_rules``)."""
from datetime import date

from sqlalchemy import or_

from ..operations.plans import payment_deadline
from .models import StaffCostLine


def salary_payment_rules(operation, as_of: date | None, rule=None, deadline=None) -> list:
    """``rule(reason, left out, kept)`` for each rule (``claims.selection.Rule``); a line from
    before the column (no date) is kept."""
    rule = rule or (lambda *parts: parts)
    paid, unknown = StaffCostLine.paid_on, StaffCostLine.paid_on.is_(None)
    deadline = payment_deadline(operation) if deadline is None else deadline
    rules = [rule("outside_payment_period", paid > deadline, or_(unknown, paid <= deadline))]
    if as_of is not None:
        rules.append(rule("not_paid", paid > as_of, or_(unknown, paid <= as_of)))
    return rules
