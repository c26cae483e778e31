"""Screens: forms share the import's rules, four-eyes approval, locking, web import with preview."""
import io
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from budget_app.marks.services import declare
from budget_app.kernel.errors import Conflict
from budget_app.claims.models import Claim
from budget_app.kernel.extensions import db
from budget_app.staff import queries
from budget_app.staff.lifecycle import lock_held_timesheets
from budget_app.staff.models import Person, StaffCostLine, Timesheet

D = Decimal


def staff_example(runner):
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    assert result.exit_code == 0, result.output


def follow(client, response):
    """IsolatedClient cannot follow redirects itself: one request at a time."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"])


def sheet_for(number, month):
    return db.session.scalar(
        select(Timesheet).join(Timesheet.assignment).join(Person).where(
            Person.registration_number == number, Timesheet.month == month)
    )


def test_staff_form_uses_the_import_rules(client, login, make_user, make_operation):
    officer = make_user("finance_officer", operations=[])
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    response = client.post("/operations/HL-RSA-2023/personnel/saisie", data={
        "registration_number": "A1", "last_name": "Durand", "first_name": "Anne", "method": "horaire",
        "year": "2023", "annual_cost": "douze", "working_share": "", "fixed_percent": "",
    })
    assert response.status_code == 200
    assert "« douze » n&#39;est pas un montant valide" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    response = client.post("/operations/HL-RSA-2023/personnel/saisie", data={
        "registration_number": "A1", "last_name": "Durand", "first_name": "Anne", "method": "horaire",
        "year": "2023", "annual_cost": "41 280,00", "working_share": "", "fixed_percent": "",
    })
    page = follow(client, response).get_data(as_text=True)
    assert "41 280,00 € / 1 720 h = 24,00 €/h" in page


def test_timesheet_entry_submit_and_four_eyes_approval(app, client, login, make_user, make_operation, runner):
    first, second = make_user("finance_officer"), make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[first, second])
    staff_example(runner)
    login(client, first)
    response = client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={
        "registration_number": "HL-0587", "month": "2023-01", "hours_on_operation": "160", "hours_worked": "151,67",
    })
    assert "160 h sur l&#39;opération dépassent les 151,67 h travaillées (RPDC 55(3))" in response.get_data(as_text=True)
    response = client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={
        "registration_number": "HL-0587", "month": "2023-01", "hours_on_operation": "137,5", "hours_worked": "151,67",
    })
    assert response.status_code == 302
    sheet = sheet_for("HL-0587", date(2023, 1, 1))
    assert sheet.state == "draft" and sheet.entered_by_id == first.id
    url = f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}/etat"
    client.post(url, data={"action": "submit", "version": sheet.version})
    db.session.refresh(sheet)
    assert sheet.state == "submitted"
    # The officer who entered it cannot approve it.
    response = follow(client, client.post(url, data={"action": "approve", "version": sheet.version}))
    assert "ne peut pas être approuvée par la personne qui l&#39;a saisie" in response.get_data(as_text=True)
    db.session.refresh(sheet)
    assert sheet.state == "submitted" and sheet.cost_line is None
    other = app.test_client()
    login(other, second)
    other.post(url, data={"action": "approve", "version": sheet.version})
    db.session.refresh(sheet)
    assert sheet.state == "approved" and sheet.approved_by_id == second.id
    assert sheet.cost_line.computation == "137,5 h × 32,00 €/h = 4 400,00 €"
    page = other.get("/operations/HL-RSA-2023/lignes-de-personnel").get_data(as_text=True)
    assert "137,5 h × 32,00 €/h = 4 400,00 €" in page and "4\u202f400,00\xa0€" in page
    # Back to draft: the cost line goes.
    other.post(url, data={"action": "reopen", "version": sheet.version})
    db.session.refresh(sheet)
    assert sheet.state == "draft" and db.session.scalar(select(func.count()).select_from(StaffCostLine)) == 0


def test_stale_version_is_refused_and_loses_nothing(client, login, make_user, make_operation, runner):
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    staff_example(runner)
    runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv"])
    sheet = sheet_for("HL-0412", date(2023, 1, 1))
    seen = sheet.version
    sheet.hours_on_operation = D("110")  # someone else's change meanwhile
    db.session.commit()
    login(client, officer)
    response = client.post(f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}", data={
        "version": seen, "month": "2023-01", "hours_on_operation": "100", "hours_worked": "151,67",
    })
    page = response.get_data(as_text=True)
    assert "modifiée par quelqu&#39;un d&#39;autre" in page
    assert 'value="100"' in page and "110" in page  # the user's values and the current ones
    db.session.refresh(sheet)
    assert sheet.hours_on_operation == D("110")


def test_claimed_timesheet_is_locked_with_the_claim_named(client, login, make_user, make_operation, runner):
    officer = make_user("finance_officer")
    operation = make_operation("HL-RSA-2023", members=[officer])
    staff_example(runner)
    runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv", "--approved"])
    claim = Claim(operation=operation, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31),
                  state="submitted")
    db.session.add(claim)
    db.session.flush()
    january = db.session.scalars(select(StaffCostLine.id).where(StaffCostLine.month == date(2023, 1, 1))).all()
    declare("staff_cost_line", january, claim.id, Conflict(""))
    assert lock_held_timesheets(claim.id) == 2
    db.session.commit()
    sheet = sheet_for("HL-0412", date(2023, 1, 1))
    assert sheet.state == "locked"
    login(client, officer)
    response = follow(client, client.post(f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}/etat",
                                          data={"action": "reopen", "version": sheet.version}))
    assert "bilan n° 1" in response.get_data(as_text=True)
    db.session.refresh(sheet)
    assert sheet.state == "locked"
    # Locked months still count as PERSONNEL costs.
    assert queries.cost_lines_total(operation, date(2023, 1, 1)) == D("7280.00")
    # And a file changing a claimed month is refused, naming the claim.
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.xlsx"])
    assert result.exit_code == 0  # identical rows: nothing to change
    changed = "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\nHL-0412;2023-01;100;151,67;\n"
    path = runner.app.instance_path + "/t.csv"
    open(path, "w", encoding="utf-8").write(changed)
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", path])
    assert result.exit_code == 1 and "bilan n° 1" in result.output


def test_web_import_preview_then_confirm(client, login, make_user, make_operation, example):
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    url = "/operations/HL-RSA-2023/personnel/import"
    response = client.post(url, data={"file": (io.BytesIO(example("personnel-exemple.xlsx")), "personnel.xlsx")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "5 nouvelle(s) ligne(s)" in page
    assert "20 640,00 € / (1 720 h × 50 % = 860 h) = 24,00 €/h" in page
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0  # a preview writes nothing
    token = page.split('name="token" value="')[1].split('"')[0]
    response = client.post(url, data={"token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Person)) == 4
    # The same token cannot be used twice.
    client.post(url, data={"token": token})
    assert db.session.scalar(select(func.count()).select_from(Person)) == 4
    # Timesheets: submitted, waiting for another officer.
    url = "/operations/HL-RSA-2023/fiches-de-temps/import"
    page = client.post(url, data={"file": (io.BytesIO(example("temps-exemple.csv")), "temps.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    client.post(url, data={"token": token})
    states = set(db.session.scalars(select(Timesheet.state)))
    assert states == {"submitted"}


def test_web_import_lists_problems_and_writes_nothing(client, login, make_user, make_operation):
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    bad = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\nA1;X;Y;;horaire;2023;-5;;\n"
    response = client.post("/operations/HL-RSA-2023/personnel/import",
                           data={"file": (io.BytesIO(bad.encode()), "p.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "ligne 2, colonne Coût annuel chargé" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_readers_see_but_cannot_write(client, login, make_user, make_operation, runner):
    controller = make_user("controller")
    make_operation("HL-RSA-2023", members=[controller])
    staff_example(runner)
    runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv", "--approved"])
    login(client, controller)
    page = client.get("/operations/HL-RSA-2023/fiches-de-temps?mois=2023-01").get_data(as_text=True)
    assert "120 h × 24,00 €/h = 2 880,00 €" in page and 'name="action"' not in page
    assert client.get("/operations/HL-RSA-2023/personnel/import").status_code == 403
    page = client.get("/operations/HL-RSA-2023/lignes-de-personnel?mois=2023-01").get_data(as_text=True)
    assert "7\u202f280,00\xa0€" in page


def test_batch_approval_by_a_second_officer_keeps_the_list_filter(app, client, login, make_user, make_operation,
                                                                  runner):
    first, second = make_user("finance_officer"), make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[first, second])
    staff_example(runner)
    login(client, first)
    ids = []
    for number in ("HL-0412", "HL-0587"):
        client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={
            "registration_number": number, "month": "2023-02", "hours_on_operation": "100", "hours_worked": "151,67",
            "monthly_cost": ""})
        sheet = sheet_for(number, date(2023, 2, 1))
        client.post(f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}/etat",
                    data={"action": "submit", "version": sheet.version})
        ids.append(sheet.id)
    # The author is offered no box to tick and cannot approve through the batch either.
    listing = client.get("/operations/HL-RSA-2023/fiches-de-temps?mois=2023-02").get_data(as_text=True)
    assert 'data-testid="batch-approve"' not in listing
    response = client.post("/operations/HL-RSA-2023/fiches-de-temps/approbation",
                           data={"fiche": [str(i) for i in ids], "filtre": "2023-02"})
    assert "ne peut pas être approuvée par la personne" in follow(client, response).get_data(as_text=True)
    other = app.test_client()
    login(other, second)
    listing = other.get("/operations/HL-RSA-2023/fiches-de-temps?mois=2023-02").get_data(as_text=True)
    assert 'data-testid="batch-approve"' in listing and f'data-testid="tick-{ids[0]}"' in listing
    response = other.post("/operations/HL-RSA-2023/fiches-de-temps/approbation",
                          data={"fiche": [str(i) for i in ids], "filtre": "2023-02"})
    assert response.headers["Location"].endswith("/operations/HL-RSA-2023/fiches-de-temps?mois=2023-02")
    assert "2 fiches approuvées" in follow(other, response).get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(Timesheet, i).state for i in ids] == ["approved", "approved"]
    # Without a filter, the list stays unfiltered after a single action.
    sheet = db.session.get(Timesheet, ids[0])
    response = other.post(f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}/etat",
                          data={"action": "reopen", "version": sheet.version, "filtre": ""})
    assert response.headers["Location"].endswith(f"/operations/HL-RSA-2023/fiches-de-temps#fiche-{sheet.id}")


def test_staff_preview_shows_one_page_of_rows(client, login, make_user, make_operation):
    """Issue 21: 130 people (file lines 2-131): page 1 lists lines 2-101, page 2 lines
    102-131, both say the whole count; confirming after paging imports the 130."""
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    header = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\n"
    rows = "".join(f"A{n:03d};Nom{n};Prénom;;horaire;2023;41 280,00;100;\n" for n in range(130))
    url = "/operations/HL-RSA-2023/personnel/import"
    page = client.post(url, data={"file": (io.BytesIO((header + rows).encode()), "p.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "130 nouvelle(s) ligne(s)" in page and "Lignes 1 à 100 sur 130." in page
    assert page.count("<td>A") == 100 and "<td>A099</td>" in page and "<td>A100</td>" not in page
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert "Lignes 101 à 130 sur 130." in second
    assert second.count("<td>A") == 30 and "<td>A100</td>" in second and "<td>A129</td>" in second
    token = second.split('name="token" value="')[1].split('"')[0]
    assert client.post(url, data={"token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Person)) == 130
