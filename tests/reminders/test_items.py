"""« À faire »: each person sees what waits for them, by due date, overdue first, and only
what they may act on (golden dates worked by hand in the world's docstring)."""
from datetime import date

from budget_app.reminders.items import describe, items_for

from .conftest import TODAY


def _listed(user, today=TODAY):
    return [(item.kind, item.due) for item in items_for(user, today)]


def test_each_role_sees_only_what_it_may_act_on(world):
    """16/12/2024: Bruno approves Ana's November timesheet by 31/12/2024 (end of the next
    month); Ana, who entered it, has nothing (four eyes). Chloé checks bilan n° 1, submitted
    01/10/2024, within 80 days: 20/12/2024 (CPR 74(1)(b)). The referent acknowledges the
    alert of 16/12 by 26/12 (7 working days, 25/12 a holiday) and answers it 3 months after
    that, 26/03/2025. Admins and auditors: nothing."""
    assert _listed(world["approving"]) == [("timesheet_approval", date(2024, 12, 31))]
    assert _listed(world["entering"]) == []
    assert _listed(world["controller"]) == [("bilan_check", date(2024, 12, 20))]
    assert _listed(world["referent"]) == [("alert_acknowledgment", date(2024, 12, 26)),
                                          ("alert_feedback", date(2025, 3, 26))]
    assert _listed(world["admin"]) == []
    assert _listed(world["auditor"]) == []


def test_overdue_first_then_by_due_date(world):
    """On 21/12/2024 the check (20/12) is overdue; 06/01/2025 the timesheet too, and the
    final bilan is listed from the operation's end (31/12/2024), due 30/06/2025."""
    assert [(i.kind, i.due < date(2024, 12, 21)) for i in items_for(world["controller"], date(2024, 12, 21))] == [
        ("bilan_check", True)]
    listed = _listed(world["approving"], date(2025, 1, 6))
    assert listed == [("timesheet_approval", date(2024, 12, 31)), ("final_bilan", date(2025, 6, 30))]


def test_alert_items_name_nothing(world, app):
    """A referent's item says only that a report waits, with its date: no reference,
    operation, kind or person."""
    with app.test_request_context():
        texts = [describe(item) for item in items_for(world["referent"], TODAY)]
    assert texts == ["Un signalement attend votre accusé de réception avant le 26/12/2024",
                     "Un signalement attend votre retour à son auteur avant le 26/03/2025"]
    for text in texts:
        assert world["alert"].reference not in text and "HL-RSA" not in text


def test_daci_missing_listed_for_the_controller_and_the_recorders(world, make_user, make_operation):
    """Dan, without a DACI, is assigned to HL-RSA-2023 whose bilan n° 1 waits for its check
    since 01/10/2024: his DACI is due at once, i.e. since then (overdue on 16/12/2024)."""
    from budget_app.accounts.assignments import assign
    from budget_app.kernel.extensions import db

    newcomer = make_user("controller", email="dan@example.org", full_name="Dan Nouveau")
    assign(newcomer.id, world["operation"].id)
    db.session.commit()
    assert ("daci", date(2024, 10, 1)) in _listed(newcomer)
    assert _listed(world["admin"]) == [("daci", date(2024, 10, 1))]
    assert ("daci", date(2024, 10, 1)) in _listed(world["referent"])


def test_missing_dacis_are_one_item_for_the_recorders(world, three_missing, app):
    """Three missing DACIs (01/10, 05/11, 05/11/2024): the admin and the referent read one
    line, « 3 DACI à enregistrer », due 01/10/2024, linking to the DACI register; each
    controller still reads their own."""
    from flask_babel import force_locale

    for recorder in (world["admin"], world["referent"]):
        grouped = [item for item in items_for(recorder, TODAY) if item.kind == "daci"]
        assert [(item.due, item.endpoint) for item in grouped] == [(date(2024, 10, 1), "claims.daci_register")]
    with app.test_request_context():
        assert describe(grouped[0]) == "3 DACI à enregistrer"
        with force_locale("en"):
            assert describe(grouped[0]) == "3 conflict-of-interest declaration(s) to record"
    assert [entry for entry in _listed(three_missing["eve"]) if entry[0] == "daci"] == [("daci", date(2024, 11, 5))]
    assert ("daci", date(2024, 10, 1)) in _listed(three_missing["dan"])


def test_grouped_daci_counted_once_in_the_menu(world, three_missing, client, login):
    """Pages use the real date: the three DACIs are still missing, one line and one count."""
    from budget_app.kernel.formatting import today_in_paris
    from budget_app.reminders.items import items_for as listed_for

    login(client, world["admin"])
    page = client.get("/a-faire").get_data(as_text=True)
    assert page.count("DACI à enregistrer") == 1 and "3 DACI à enregistrer" in page
    expected = len(listed_for(world["admin"], today_in_paris()))
    assert f'data-testid="nav-count-reminders.todo">{expected}<' in page


def test_page_menu_and_home(world, client, login):
    """Pages use the real date (2026: the operation ended in 2024, so the final bilan is
    listed too, overdue): two items for Bruno, counted in the menu, first block of home."""
    login(client, world["approving"])
    page = client.get("/a-faire").get_data(as_text=True)
    assert "Approve a timesheet of HL-RSA-2023 (2024-11)" in page  # Bruno reads English
    assert "Submit the final bilan of HL-RSA-2023" in page
    assert page.index("final bilan") > page.index("timesheet")  # overdue since 31/12/2024, before 30/06/2025
    assert 'data-testid="nav-count-reminders.todo">2<' in page
    home = client.get("/").get_data(as_text=True)
    assert home.index('data-testid="todo-list"') < home.index("Your operations")


def test_auditor_page_says_nothing_waits(world, client, login):
    login(client, world["auditor"])
    page = client.get("/a-faire").get_data(as_text=True)
    assert 'data-testid="todo-empty"' in page
    assert "nav-count-reminders.todo" not in page


def test_admin_items_amendment_and_unused_setup_link(world, make_user, make_operation):
    """An amendment requested on 02/12/2024 is decided within 30 days: 01/01/2025. A set-up
    link expiring on 17/12/2024 at 10:00 UTC is listed until it is used."""
    from datetime import datetime, timezone

    from budget_app.kernel.extensions import db
    from budget_app.operations.models import AmendmentRequest

    db.session.add(AmendmentRequest(operation_id=world["operation"].id, state="pending", payload="{}",
                                    requested_at=datetime(2024, 12, 2, 9, tzinfo=timezone.utc)))
    newcomer = make_user("controller", email="eve@example.org", full_name="Ève Nouvelle")
    newcomer.setup_token_hash = "0" * 64
    newcomer.setup_expires_at = datetime(2024, 12, 17, 10, tzinfo=timezone.utc)
    db.session.commit()
    assert _listed(world["admin"]) == [("setup_link", date(2024, 12, 17)), ("amendment", date(2025, 1, 1))]
    assert ("amendment", date(2025, 1, 1)) not in _listed(world["approving"])  # officers request, admins decide


def test_an_officer_of_another_operation_sees_nothing_of_this_one(world, make_user):
    stranger = make_user("finance_officer", email="zoe@example.org")
    assert _listed(stranger) == []
    assert _listed(stranger, date(2025, 1, 6)) == []


def test_caseworkers_see_their_participants_dues_by_code_only(app, runner):
    """The seed's synthetic participants (participants §4 deadlines): the demo caseworker's
    « À faire » lists what is owed by code; no name appears, and a finance officer of the
    same operation gets none of it."""
    from sqlalchemy import select

    from budget_app.accounts.models import User
    from budget_app.kernel.extensions import db
    from budget_app.participants.deadlines import open_dues
    from budget_app.participants.models import Participant

    assert runner.invoke(args=["seed"]).exit_code == 0
    today = date(2025, 3, 3)
    caseworker = db.session.scalar(select(User).where(User.email.like("caseworker@%")))
    # One record left incomplete: its entry record is owed 4 weeks after the entry.
    record = db.session.scalars(select(Participant).order_by(Participant.code)).first()
    record.complete, record.caseworker_id = False, caseworker.id
    db.session.commit()
    officer = db.session.scalar(select(User).where(User.email.like("finance.officer@%")))
    operation_ids = {p.operation_id for p in db.session.scalars(select(Participant))}
    expected = {(due.code, due.due) for due in open_dues(operation_ids, today)
                if due.caseworker_id in (None, caseworker.id)}
    listed = [item for item in items_for(caseworker, today) if item.kind == "participant_record"]
    assert expected and {(item.values["participant"], item.due) for item in listed} == expected
    with app.test_request_context():
        texts = " ".join(describe(item) for item in listed)
    assert "Démo" not in texts and "fictif" not in texts
    assert not [item for item in items_for(officer, today) if item.kind == "participant_record"]
