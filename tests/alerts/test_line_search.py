"""The referent's alert page on an operation with many cost lines: it lists at most
``LINES_SHOWN`` of them, found by a search (supplier, document number, label, registration
number or line number), says how many match, and reads only the columns shown."""
from decimal import Decimal as D

from budget_app.alerts import suspicions
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line


def test_search_finds_lines_by_what_the_referent_knows(app, make_operation):
    operation = make_operation("OP-MANY")
    for index in range(120):
        make_expense(operation, "10.00", supplier="Papeterie du Velay" if index % 2 else "Traiteur Lozère",
                     label=f"Achat {index}", commit=False)
    staff = make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    db.session.commit()
    lines, matching = suspicions.find_cost_lines(operation.id)
    assert (len(lines), matching) == (suspicions.LINES_SHOWN, 121)
    lines, matching = suspicions.find_cost_lines(operation.id, "  traiteur  ")
    assert matching == 60 and all("Traiteur" in line.label for line in lines)
    lines, matching = suspicions.find_cost_lines(operation.id, staff.person.registration_number.lower())
    assert matching == 1 and lines[0].line_type == "staff_cost_line" and lines[0].amount == D("2880.00")
    first = lines[0]
    lines, matching = suspicions.find_cost_lines(operation.id, str(staff.id), exclude={("staff_cost_line", first.id)})
    assert all((line.line_type, line.id) != ("staff_cost_line", first.id) for line in lines)
    lines, matching = suspicions.find_cost_lines(operation.id, "achat 7", limit=5)
    assert matching == 11 and len(lines) == 5  # Achat 7, 70-79
