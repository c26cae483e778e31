"""Deadlines (participants §4, product rule) and the dashboard's participants block.

Worked by hand, today = 15/12/2023 on the worked example with one change: P5 (exit
17/11/2023, situation « inconnue ») is answered; a sixth participant entered 01/11/2023
without the four questions (incomplete): entry record due 29/11/2023, late. P1 exit
29/09/2023: follow-up due 29/03/2024, not yet. P2-P4 exits have a situation: nothing owed."""
from datetime import date

from budget_app.kernel.extensions import db
from budget_app.participants.deadlines import late_by_caseworker, open_dues, presence_counts
from budget_app.participants.imports import save_participant
from budget_app.participants.models import Participant


def test_dues_and_presence(worked_example, make_user):
    caseworker = make_user("caseworker", operations=["HL-RSA-2023"])
    late = save_participant(worked_example, {"last_name": "Retard", "first_name": "Fictif", "birth_date": "01/01/1980",
                                             "sex": "H", "entry_date": "01/11/2023"}, user=caseworker)
    db.session.commit()
    dues = open_dues([worked_example.id], date(2023, 12, 15))
    assert [(due.code, due.kind, due.due, due.late) for due in dues] == [(late.code, "entry", date(2023, 11, 29), True)]
    assert list(late_by_caseworker([worked_example.id], date(2023, 12, 15))) == [caseworker.id]
    # 30/03/2024: P1's follow-up (due 29/03/2024) is owed, not yet late (4 weeks).
    p1 = db.session.scalar(db.select(Participant).where(Participant.age_at_entry == 34))
    p1.employed_6m = None
    db.session.commit()
    later = open_dues([worked_example.id], date(2024, 3, 30))
    assert [(due.code, due.kind, due.late) for due in later if due.kind == "follow_up"] == [(p1.code, "follow_up", False)]
    assert presence_counts(worked_example.id, date(2023, 11, 1)) == {"entered": 6, "present": 4, "exited": 2}
    assert presence_counts(worked_example.id, date(2023, 12, 31)) == {"entered": 6, "present": 1, "exited": 5}


def test_dashboard_shows_counts_and_late_items_by_caseworker(app, worked_example, make_user, login):
    caseworker = make_user("caseworker", operations=["HL-RSA-2023"], full_name="Camille Accompagnatrice")
    save_participant(worked_example, {"last_name": "Retard", "first_name": "Fictif", "birth_date": "01/01/1980",
                                      "sex": "H", "entry_date": "01/11/2023"}, user=caseworker)
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    text = login(app.test_client(), officer).get("/operations/HL-RSA-2023/tableau-de-bord").get_data(as_text=True)
    assert "Entrés : 6 · présents : 1 · sortis : 5" in text
    assert "Camille Accompagnatrice" in text and "Retard" not in text
    referent = make_user("antifraud_referent")
    text = login(app.test_client(), referent).get("/operations/HL-RSA-2023/tableau-de-bord").get_data(as_text=True)
    assert 'data-testid="participants-panel"' not in text
