"""National volumes (issue 27): a generator of 300 operations in 6 envelopes, 3 million
expense lines, 10 000 staff-months and 2 000 users, bulk inserted (executemany in blocks
of 5 000; psycopg sends them pipelined on PostgreSQL). ``scale`` shrinks every count
(BENCH_SCALE=0.01: 3 operations, 30 000 lines, 100 staff-months, 20 users).

Used by ``bench_national.py``; ``generate_lines`` adds lines in steps to the operations it is
given, so the same world is measured at 20 000 lines (the measured operation's), then at
national volume (the others' lines added around it).
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from budget_app.kernel.extensions import db

OPERATIONS, LINES, STAFF_MONTHS, USERS, ENVELOPES = 300, 3_000_000, 10_000, 2_000, 6
START, END = date(2023, 1, 1), date(2024, 12, 31)
CATEGORIES = ("FONCTIONNEMENT", "PRESTATIONS")
BLOCK = 5000


def counts(scale: float) -> dict:
    return {"operations": max(3, round(OPERATIONS * scale)), "lines": round(LINES * scale),
            "staff_months": max(12, round(STAFF_MONTHS * scale)), "users": max(3, round(USERS * scale)),
            "envelopes": max(1, round(ENVELOPES * min(1.0, scale * 10)))}


def generate_world(scale: float, password_hash: str) -> list[int]:
    """Envelopes, operations with their plans (half with PERSONNEL_20, half INDIRECTS_15),
    users (officers assigned to 3 operations each, plus admins), staff-months. Returns the
    operations' ids, the first one (BENCH-0000) being the one whose pages are timed."""
    from budget_app.accounts.models import User
    from budget_app.operations.models import Envelope, Operation, Organisation, PlanCost, PlanFlatRate, PlanVersion

    n = counts(scale)
    organisation = Organisation(name="Autorité de gestion", kind="collectivite")
    db.session.add(organisation)
    envelopes = [Envelope(code=f"ENV-{index}", name=f"Enveloppe {index}", organisation=organisation,
                          start_date=START, end_date=END, fse_amount=Decimal("900000000.00"))
                 for index in range(n["envelopes"])]
    db.session.add_all(envelopes)
    for index in range(n["operations"]):
        operation = Operation(code=f"BENCH-{index:04d}", title=f"Opération {index}", organisation=organisation,
                              start_date=START, end_date=END, fse_rate=Decimal("60"),
                              fse_amount=Decimal("3000000.00"), status="running",
                              envelope=envelopes[index % len(envelopes)])
        version = PlanVersion(number=1)
        version.costs = [PlanCost(category=category, year=year, amount=Decimal("1000000"))
                         for category in CATEGORIES for year in (2023, 2024)]
        code, rate = ("PERSONNEL_20", "20") if index % 2 else ("INDIRECTS_15", "15")
        version.flat_rates = [PlanFlatRate(code=code, rate=Decimal(rate))]
        operation.plan_versions.append(version)
        db.session.add(operation)
    db.session.flush()
    ids = db.session.scalars(select(Operation.id).where(Operation.code.like("BENCH-%")).order_by(Operation.code)).all()
    db.session.execute(insert(User), [
        {"email": f"agent{index}@bench.example.org", "password_hash": password_hash,
         "role": "admin" if index % 100 == 0 else "finance_officer", "locale": "fr", "active": True,
         "is_demo": False} for index in range(n["users"])])
    _assign(ids)
    _staff_months(ids, n["staff_months"])
    db.session.commit()
    return ids


def _assign(operation_ids) -> None:
    from budget_app.accounts.models import User
    from budget_app.accounts.assignments import assign

    users = db.session.scalars(select(User.id).where(User.email.like("%@bench.example.org"),
                                                     User.role == "finance_officer").order_by(User.id)).all()
    for index, user in enumerate(users):
        for offset in range(3):
            assign(user, operation_ids[(index + offset) % len(operation_ids)])


def _staff_months(operation_ids, total: int) -> None:
    """One person per operation and 12 staff-months each (until ``total``): approved
    timesheets and their cost lines."""
    from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, Timesheet

    per_person, people = 12, max(1, total // 12)
    db.session.execute(insert(Person), [
        {"registration_number": f"N{index:06d}", "last_name": "Agent", "first_name": f"N{index}",
         "function": "Conseiller"} for index in range(people)])
    person_ids = db.session.scalars(select(Person.id).where(Person.registration_number.like("N%"))
                                    .order_by(Person.id)).all()
    db.session.execute(insert(StaffAssignment), [
        {"operation_id": operation_ids[index % len(operation_ids)], "person_id": person, "method": "hourly"}
        for index, person in enumerate(person_ids)])
    assignments = db.session.execute(select(StaffAssignment.id, StaffAssignment.operation_id, StaffAssignment.person_id)
                                     .where(StaffAssignment.person_id.in_(person_ids))).all()
    months = [date(2023, month, 1) for month in range(1, per_person + 1)]
    db.session.execute(insert(Timesheet), [
        {"assignment_id": assignment, "month": month, "hours_on_operation": Decimal("100"),
         "hours_worked": Decimal("151.67"), "state": "approved", "version": 1}
        for assignment, _operation, _person in assignments for month in months])
    sheets = db.session.execute(select(Timesheet.id, Timesheet.assignment_id, Timesheet.month)
                                .where(Timesheet.assignment_id.in_([a for a, _o, _p in assignments]))).all()
    owner = {assignment: (operation, person) for assignment, operation, person in assignments}
    rows = [{"operation_id": owner[assignment][0], "timesheet_id": sheet, "person_id": owner[assignment][1],
             "month": month, "amount": Decimal("3200.00"), "computation": "100 h × 32,00 €/h = 3 200,00 €",
             "paid_on": month + timedelta(days=30)} for sheet, assignment, month in sheets]
    for index in range(0, len(rows), BLOCK):
        db.session.execute(insert(StaffCostLine), rows[index:index + BLOCK])


def generate_lines(operation_ids, first: int, count: int, seed: int = 2027) -> None:
    """Expense lines ``first`` .. ``first + count - 1``, spread evenly over the operations."""
    from budget_app.expenses.models import Expense
    from budget_app.expenses.rules import document_key, eligible_amount, supplier_key

    rng = random.Random(seed + first)
    suppliers = [(f"Fournisseur {index}", supplier_key(f"Fournisseur {index}", None)) for index in range(500)]
    for start in range(first, first + count, BLOCK):
        rows = []
        for number in range(start, min(start + BLOCK, first + count)):
            name, key = suppliers[rng.randrange(500)]
            amount = Decimal(rng.randrange(100, 500000)) / 100
            vat = (amount * Decimal("0.2")).quantize(Decimal("0.01"))
            incurred = START + timedelta(days=rng.randrange(700))
            rows.append({
                "operation_id": operation_ids[number % len(operation_ids)], "category": CATEGORIES[number % 2],
                "incurred_on": incurred, "paid_on": incurred + timedelta(days=20), "supplier_name": name,
                "supplier_key": key, "document_number": f"F-{number}", "document_key": document_key(f"F-{number}"),
                "label": f"Dépense n° {number}", "amount_excl_vat": amount, "vat": vat, "vat_recoverable": False,
                "allocation_percent": Decimal("100"), "eligible_amount": eligible_amount(amount, vat, False,
                                                                                          Decimal("100")),
                "is_complete": number % 7 != 0, "version": 1,
            })
        db.session.execute(insert(Expense.__table__), rows)
        db.session.commit()
