"""Across domains: cost lines linked to an alert drop out of the next claim with the reason
"suspicion", and come back once the referent lifts the suspicion."""
from datetime import date
from decimal import Decimal as D

from budget_app.alerts import filing, suspicions
from budget_app.claims.selection import compute_period
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


def test_suspected_lines_leave_the_claim_until_lifted(app, claims_world, make_user, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    operation = claims_world["operation"]
    make_expense(operation, "100.00")
    suspect = make_expense(operation, "40.00", label="Facture gonflée")
    staff = make_staff_line(operation, "7280.00", hours=D("227.5"), rate=D("32.00"))
    referent = make_user("antifraud_referent", email="referent@example.org")

    before = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15))
    assert before.figures.categories == {"FONCTIONNEMENT": D("140.00"), "PERSONNEL": D("7280.00")}

    alert, _secret = filing.file_alert(
        filing.Report(kind="double_funding", facts="Facture présentée deux fois", operation_id=operation.id,
                      operation_text="", persons="", dates="janvier 2023")
    )
    suspicions.link_operation(alert, operation)
    [link, _] = suspicions.link_cost_lines(alert, referent, [("expense", suspect.id), ("staff_cost_line", staff.id)])
    db.session.commit()

    during = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15))
    assert during.figures.categories["FONCTIONNEMENT"] == D("100.00")
    assert during.figures.categories.get("PERSONNEL", D("0.00")) == D("0.00")
    assert sorted((line.reason, line.amount) for line in during.left_out) == [
        ("on_hold", D("40.00")), ("on_hold", D("7280.00")),
    ]
    # No staff costs left, so no indirect costs on them either (CPR 54(b)).
    assert during.figures.flat_rates.get("INDIRECTS_15", D("0.00")) == D("0.00")

    suspicions.lift_suspicion(link, referent, "facture justifiée")
    db.session.commit()
    after = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15))
    assert after.figures.categories["FONCTIONNEMENT"] == D("140.00")
    assert after.figures.categories.get("PERSONNEL", D("0.00")) == D("0.00")
    assert [(line.reason, line.amount) for line in after.left_out] == [("on_hold", D("7280.00"))]
