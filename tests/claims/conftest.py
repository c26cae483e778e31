"""Claims test data, built directly with the models (expenses with their eligible amount
set, timesheets with their staff cost lines, a financing plan with its flat rate)."""
from datetime import date
from decimal import Decimal

import pytest

from budget_app.expenses.models import Expense
from budget_app.extensions import db
from budget_app.operations.models import PlanCost, PlanFlatRate, PlanVersion
from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, Timesheet


class Builder:
    def __init__(self, operation):
        self.operation = operation
        self.counter = 0

    def expense(self, amount, category="FONCTIONNEMENT", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20),
                complete=True, credit_note_of=None, label="Fournitures", supplier="Papeterie du Velay", commit=True):
        self.counter += 1
        amount = Decimal(amount)
        expense = Expense(
            operation_id=self.operation.id, category=category, incurred_on=incurred_on, paid_on=paid_on,
            supplier_name=supplier, supplier_key=supplier.lower(), document_number=f"F{self.counter:05d}",
            document_key=f"f{self.counter:05d}", label=label, amount_excl_vat=amount, vat=Decimal("0.00"),
            allocation_percent=Decimal("100"), eligible_amount=amount, is_complete=complete,
            credit_note_of_id=getattr(credit_note_of, "id", None),
        )
        db.session.add(expense)
        if commit:
            db.session.commit()
        return expense

    def staff(self, amount, month=date(2023, 1, 1), state="approved", hours=None, rate=None, name="Martin"):
        self.counter += 1
        person = Person(registration_number=f"M{self.counter:05d}", last_name=name, first_name="Claire",
                        function="Conseillère en insertion")
        assignment = StaffAssignment(operation_id=self.operation.id, person=person, method="hourly")
        timesheet = Timesheet(assignment=assignment, month=month, hours_on_operation=hours, hours_worked=hours,
                              state=state)
        amount = Decimal(amount)
        line = StaffCostLine(
            operation_id=self.operation.id, timesheet=timesheet, person=person, month=month, hours=hours,
            hourly_rate=rate, amount=amount, computation=f"{hours} h × {rate} €/h = {amount} €",
        )
        db.session.add_all([person, assignment, timesheet, line])
        db.session.commit()
        return line


def add_plan(operation, rates=None, costs=None):
    """The seed operation's plan: 725 000 € of staff costs over 2023-2024, indirect 15 %."""
    version = PlanVersion(operation=operation, number=len(operation.plan_versions) + 1)
    for (category, year), amount in (costs or {("PERSONNEL", 2023): "362500.00",
                                             ("PERSONNEL", 2024): "362500.00"}).items():
        version.costs.append(PlanCost(category=category, year=year, amount=Decimal(amount)))
    for code, rate in (rates if rates is not None else {"INDIRECTS_15": "15"}).items():
        version.flat_rates.append(PlanFlatRate(code=code, rate=Decimal(rate)))
    db.session.add(version)
    db.session.commit()
    return version


@pytest.fixture
def claims_world(app, make_user, make_operation):
    officer = make_user("finance_officer", email="fo@example.org")
    controller = make_user("controller", email="ctrl@example.org")
    admin = make_user("admin", email="admin@example.org")
    operation = make_operation(
        "HL-RSA-2023", title="Accompagnement socioprofessionnel renforcé des entrants au rSa",
        members=[officer, controller], fse_amount=Decimal("500250.00"),
    )
    add_plan(operation)
    # The controller's conflict-of-interest declaration (DACI), needed for the CSF (alerts domain).
    from budget_app.alerts.services import record_declaration

    record_declaration(user=controller, operation=operation, programme_year=None, signed_on=date(2023, 1, 2),
                       valid_until=None, has_interest=False, interest_description=None, recorded_by=admin)
    db.session.commit()
    return {"operation": operation, "officer": officer, "controller": controller, "admin": admin,
            "build": Builder(operation)}
