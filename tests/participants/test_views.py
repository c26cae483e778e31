"""Who sees what (participants §5): every participants page for every role; identities
and special-category answers only on caseworkers' pages, each read logged; the indicator
page gives the worked example's table; the import previews then confirms."""
import pytest

from budget_app.accounts.roles import ROLES
from budget_app.kernel.extensions import db
from budget_app.participants.models import Participant, ParticipantAccess
from tests.participants.conftest import EXAMPLE

IDENTITY_MARKS = ("Exemple-Deux", "Le Puy-en-Velay", "20/05/1965")


@pytest.fixture
def people(worked_example, make_user):
    return {role: make_user(role, operations=["HL-RSA-2023"] if role in ("finance_officer", "controller",
                                                                           "caseworker") else ())
            for role in ROLES}


def _p2():
    return db.session.scalar(db.select(Participant).where(Participant.age_at_entry == 57))


def _pages(code):
    base = "/operations/HL-RSA-2023/participants"
    return [f"/participants", f"{base}/", f"{base}/indicateurs?du=01/01/2023&au=31/12/2023", f"{base}/{code}",
            f"{base}/nouveau", f"{base}/{code}/modifier", f"{base}/{code}/droit-d-acces.csv", f"{base}/import",
            f"{base}/modele.xlsx", "/participants/journal-des-acces"]


@pytest.mark.parametrize("role", ROLES)
def test_identities_and_special_answers_only_for_caseworkers(app, people, login, role):
    code = _p2().code
    client = login(app.test_client(), people[role])
    seen = {}
    for url in _pages(code):
        response = client.get(url)
        assert response.status_code < 500, url
        seen[url] = response
        if role != "caseworker":
            text = response.get_data(as_text=True)
            assert not any(mark in text for mark in IDENTITY_MARKS), url
    readable = {url for url, response in seen.items() if response.status_code == 200}
    base = "/operations/HL-RSA-2023/participants"
    counts = {"/participants", f"{base}/", f"{base}/indicateurs?du=01/01/2023&au=31/12/2023"}
    expected = {
        "caseworker": set(_pages(code)) - {"/participants/journal-des-acces"},
        "auditor": counts | {"/participants/journal-des-acces"},
        "antifraud_referent": set(),
    }.get(role, counts)
    assert readable == expected
    logged = db.session.scalars(db.select(ParticipantAccess).where(ParticipantAccess.action != "role_granted")).all()
    if role == "caseworker":
        # the detail page, the edit form and the right-of-access export: three reads, by code
        assert sorted((entry.action, entry.participant_code) for entry in logged) == [
            ("access_export", code), ("identity", code), ("identity", code)]
        assert all(entry.actor == f"user:{people[role].email}" for entry in logged)
        assert "Exemple-Deux" in seen[f"{base}/{code}"].get_data(as_text=True)
    else:
        assert logged == []


def test_a_caseworker_of_another_operation_gets_404(app, worked_example, make_user, make_operation, login):
    make_operation("AUTRE")
    stranger = make_user("caseworker", operations=["AUTRE"])
    client = login(app.test_client(), stranger)
    assert client.get(f"/operations/HL-RSA-2023/participants/{_p2().code}").status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(ParticipantAccess)) == 0


def test_the_indicator_page_shows_the_worked_example(app, people, login):
    client = login(app.test_client(), people["finance_officer"])
    text = client.get("/operations/HL-RSA-2023/participants/indicateurs?du=01/01/2023&au=31/12/2023").get_data(
        as_text=True)
    row = text.split('data-testid="EECO01"')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split('class="amount">')[1:]] == ["3", "2", "0", "5"]
    row = text.split('data-testid="EECR01"')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split('class="amount">')[1:]] == ["0", "1", "0", "1"]


def test_the_auditor_reads_the_access_log_with_codes_and_the_caseworker_grant(app, people, login):
    code = _p2().code
    login(app.test_client(), people["caseworker"]).get(f"/operations/HL-RSA-2023/participants/{code}")
    text = login(app.test_client(), people["auditor"]).get("/participants/journal-des-acces").get_data(as_text=True)
    assert code in text and "rôle accompagnateur donné" in text
    assert f"compte n° {people['caseworker'].id}" in text
    assert "Exemple" not in text


def test_entry_form_saves_and_refuses_by_field(app, people, login):
    client = login(app.test_client(), people["caseworker"])
    form = {"last_name": "Essai", "first_name": "Fictif", "birth_date": "01/01/2000", "sex": "H",
            "entry_date": "01/02/2023", "employment_status": "inactif", "unemployment_months": "3"}
    refused = client.post("/operations/HL-RSA-2023/participants/nouveau", data=form)
    assert refused.status_code == 422
    assert "durée de chômage seulement pour un chômeur" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 5
    form.pop("unemployment_months")
    saved = client.post("/operations/HL-RSA-2023/participants/nouveau", data=form)
    assert saved.status_code == 302
    new = db.session.scalar(db.select(Participant).where(Participant.age_at_entry == 23))
    assert new.caseworker_id == people["caseworker"].id and new.complete is False


def test_exit_form_with_a_stale_version_is_refused(app, people, login):
    participant = _p2()
    client = login(app.test_client(), people["caseworker"])
    response = client.post(f"/operations/HL-RSA-2023/participants/{participant.code}/modifier",
                           data={"version": str(participant.version + 5), "qualification": "oui"})
    assert response.status_code == 409
    db.session.refresh(participant)
    assert participant.qualification is None


def test_web_import_previews_then_confirms(app, hl_operation, make_user, login):
    user = make_user("caseworker", operations=["HL-RSA-2023"])
    client = login(app.test_client(), user)
    preview = client.post("/operations/HL-RSA-2023/participants/import",
                          data={"file": (EXAMPLE.open("rb"), "participants.csv")}, content_type="multipart/form-data")
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "5 nouveau(x) participant(s)" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 0
    token = text.split('name="token" value="')[1].split('"')[0]
    done = client.post("/operations/HL-RSA-2023/participants/import", data={"token": token})
    assert done.status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 5


def test_seed_loads_synthetic_participants_once_with_a_demo_caseworker(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "HL-RSA-2023 : 36 participants fictifs importés." in first.output
    assert "caseworker@demo.budget-fse.invalid" in first.output
    again = runner.invoke(args=["seed"])
    assert "participants fictifs" not in again.output and "rien à faire" in again.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 36
    # obviously synthetic identities: « Démo-NNN », « Participant fictif »
    names = {p.identity and p.code for p in db.session.scalars(db.select(Participant))}
    assert len(names) == 36


def test_template_matches_the_importer_and_is_accepted_once_filled(app, hl_operation, make_user, login):
    import io

    from openpyxl import load_workbook

    from budget_app.participants.answers import COLUMNS
    from budget_app.participants.import_views import EXAMPLE
    from budget_app.participants.imports import import_participants

    client = login(app.test_client(), make_user("caseworker", operations=["HL-RSA-2023"]))
    response = client.get("/operations/HL-RSA-2023/participants/modele.xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    workbook = load_workbook(io.BytesIO(response.data))
    assert [cell.value for cell in workbook.worksheets[0][1]] == list(COLUMNS.values())
    assert workbook.worksheets[1].max_row == len(COLUMNS) + 1
    workbook.worksheets[0].append([EXAMPLE[key] or None for key in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_participants(hl_operation, buffer.getvalue())
    assert report.count("new") == 1


@pytest.mark.parametrize("lang, shown", [("fr", "20/05/1965"), ("en", "1965-05-20")])
def test_the_edit_form_shows_dates_as_the_readers_pages_print_them(app, people, login, lang, shown):
    """Issue 26: a person types dates as their page shows them. The edit form of participant
    P2 (born 20/05/1965) is pre-filled « 20/05/1965 » on a French page and « 1965-05-20 » on an
    English one, and saving it unchanged keeps the birth date."""
    participant = _p2()
    people["caseworker"].locale = lang
    db.session.commit()
    client = login(app.test_client(), people["caseworker"])
    url = f"/operations/HL-RSA-2023/participants/{participant.code}/modifier"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{shown}"' in page
    other = "1965-05-20" if lang == "fr" else "20/05/1965"
    assert f'value="{other}"' not in page
