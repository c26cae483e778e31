"""Point 7 of issue 21: no 5xx from any field. Integers are read by one parser
(``kernel.integers``: ASCII digits, range-checked) in every form, query and URL; CR/LF in
``next`` never reaches a Location header; NUL in a query string is a 400; a CSV cell over
csv's field limit is a ``ligne N, colonne X`` problem (web) and ``Erreur : …`` (CLI);
`operations load` refuses control characters in titles. Each case answered 500 (or a
traceback) before."""
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_access import _url, rules

MAX_ID = 2**31 - 1  # PostgreSQL's integer

BAD_NUMBERS = ["²", "¹²", "١٢", "1e23", "99999999999999999999", str(MAX_ID + 1), "-1", "+1", "1_000", "12.0", ""]


# ---------------------------------------------------------------- the parser

@given(st.integers(min_value=0, max_value=MAX_ID))
def test_every_number_in_range_reads_back(number):
    from budget_app.kernel.integers import parse_int

    assert parse_int(str(number)) == number and parse_int(f" {number} ") == number


@given(st.text(max_size=25))
def test_anything_else_is_none_never_an_exception(text):
    from budget_app.kernel.integers import parse_int

    result = parse_int(text)
    stripped = text.strip()
    is_ascii_number = stripped.isascii() and stripped.isdigit() and int(stripped) <= MAX_ID
    assert result == (int(stripped) if is_ascii_number else None)


@pytest.mark.parametrize("text", BAD_NUMBERS + ["0"])
def test_crafted_ids_are_refused(text):
    from budget_app.kernel.integers import MAX_ID as KERNEL_MAX_ID, parse_id

    assert KERNEL_MAX_ID == MAX_ID
    assert parse_id(text) is None


# ---------------------------------------------------------------- forms and queries

@pytest.fixture
def clients(app, world, login):
    return {role: login(app.test_client(), world["users"][role])
            for role in ("finance_officer", "antifraud_referent", "admin", "controller")}


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_crafted_integers_in_forms_never_answer_500(app, world, clients, value):
    reference = world["values"]["OP-IN"]["reference"]
    expense = world["values"]["OP-IN"]["expense_id"]
    timesheet = world["values"]["OP-IN"]["timesheet_id"]
    officer, referent = clients["finance_officer"], clients["antifraud_referent"]
    posts = [
        (officer, f"/operations/OP-IN/depenses/{expense}/supprimer", {"version": value, "reason": "doublon"}),
        (officer, f"/operations/OP-IN/depenses/{expense}/modifier", {"credit_note_of": value, "version": "1"}),
        (officer, f"/operations/OP-IN/fiches-de-temps/{timesheet}/etat", {"action": "submit", "version": value}),
        (officer, "/operations/OP-IN/fiches-de-temps/approbation", {"fiche": value}),
        (officer, "/operations/OP-IN/personnel/saisie", {"year": value, "registration_number": "M-1", "method": "hourly",
                                                         "last_name": "Martin", "first_name": "Claire",
                                                         "annual_cost": "41 280,00", "working_share": "100"}),
        (referent, f"/referent/signalements/{reference}/lignes", {"line": f"expense:{value}"}),
        (referent, f"/referent/signalements/{reference}/lignes", {"expense_ids": value}),
        (referent, f"/referent/signalements/{reference}/lignes", {"staff_ids": value}),
        (clients["admin"], "/daci/nouvelle", {"programme_year": value, "user_id": value, "signed_on": "2024-01-01"}),
    ]
    failures = [f"POST {url} {data}: {client.post(url, data=data).status_code}"
                for client, url, data in posts if client.post(url, data=data).status_code >= 500]
    gets = [(referent, f"/referent/signalements/{reference}", {"lignes": value}),
            (referent, "/referent/signalements", {"page": value}),
            (clients["admin"], "/operations/OP-IN/comparaison", {"de": value, "a": value})]
    failures += [f"GET {url} {query}" for client, url, query in gets
                 if client.get(url, query_string=query).status_code >= 500]
    assert failures == []


def test_a_wrong_line_number_is_said_and_changes_nothing(app, world, clients):
    from budget_app.alerts.suspicions import suspected_cost_lines
    from budget_app.operations.models import Operation
    from budget_app.kernel.extensions import db

    reference = world["values"]["OP-IN"]["reference"]
    operation = db.session.scalar(db.select(Operation).filter_by(code="OP-IN"))
    before = suspected_cost_lines(operation.id)
    referent = clients["antifraud_referent"]
    response = referent.post(f"/referent/signalements/{reference}/lignes", data={"expense_ids": "²"})
    assert response.status_code == 302
    assert "« ² » n&#39;est pas un numéro de ligne." in referent.get(f"/referent/signalements/{reference}").get_data(as_text=True)
    assert suspected_cost_lines(operation.id) == before


def test_a_version_with_a_unicode_digit_is_a_missing_version(app, world, clients):
    expense = world["values"]["OP-IN"]["expense_id"]
    response = clients["finance_officer"].post(f"/operations/OP-IN/depenses/{expense}/supprimer",
                                               data={"version": "²", "reason": "doublon"})
    assert response.status_code == 400 and "Version manquante" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["99999999999999999999", str(MAX_ID + 1), "²", "١"])
def test_ids_in_urls_outside_the_range_are_404(app, world, clients, number):
    failures = []
    for rule in rules(app):
        if "GET" not in rule.methods or not any(name.endswith("_id") for name in rule.arguments):
            continue
        url = _url(rule, world["values"]["OP-IN"])
        for name in rule.arguments:
            if name.endswith("_id"):
                sample = str(world["values"]["OP-IN"][name])
                url = url.replace(f"/{sample}", f"/{number}", 1)
        for role, client in clients.items():
            status = client.get(url).status_code
            if status != 404:
                failures.append(f"{url} as {role}: {status}")
    assert failures == []


# ---------------------------------------------------------------- redirects and NUL

@pytest.mark.parametrize("target", ["/a\r\nSet-Cookie: x=1", "/a\nLocation: //evil.example", "/a\x00b", "/a\tb"])
def test_control_characters_in_next_never_reach_a_location(app, client, make_user, target):
    response = client.post("/compte/langue", data={"lang": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    from tests.conftest import PASSWORD

    make_user(email="fo@example.org")
    response = client.post("/connexion", data={"email": "fo@example.org", "password": PASSWORD, "next": target})
    # Logged in and sent home, or (NUL, tab: refused by the form's text check) the form again.
    assert (response.status_code, response.headers.get("Location")) in ((302, "/"), (200, None))


def test_nul_in_a_query_string_is_a_bad_request(app, world, clients):
    reference = world["values"]["OP-IN"]["reference"]
    response = clients["antifraud_referent"].get(f"/referent/signalements/{reference}", query_string={"lignes": "a\x00b"})
    assert response.status_code == 400 and "Requête invalide" in response.get_data(as_text=True)


# ---------------------------------------------------------------- files

def _long_cell_csv() -> bytes:
    """A header and one row whose « Libellé » (6th column) holds 131 073 characters: one
    over csv's field limit."""
    header = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)"
    row = ";".join(["04/03/2019", "15/03/2019", "Bureau", "", "FA-1", "x" * 131_073, "FONCTIONNEMENT", "10,00", "0", "non",
                    "100"])
    return f"{header}\n{row}\n".encode()


def test_a_huge_csv_cell_is_named_by_line_and_column_on_the_web(app, login, make_user, make_operation):
    officer = make_user("finance_officer", email="fo@example.org")
    make_operation("OP-CSV", members=[officer])
    client = login(app.test_client(), officer)
    response = client.post("/operations/OP-CSV/depenses/import",
                           data={"file": (io.BytesIO(_long_cell_csv()), "depenses.csv")},
                           content_type="multipart/form-data")
    assert response.status_code < 500
    assert "ligne 2, colonne Libellé : cellule de plus de 131072 caractères" in response.get_data(as_text=True)


def test_a_huge_csv_cell_is_an_error_line_from_the_cli(app, runner, make_operation, tmp_path):
    make_operation("OP-CSV")
    path = tmp_path / "depenses.csv"
    path.write_bytes(_long_cell_csv())
    result = runner.invoke(args=["expenses", "import", "OP-CSV", str(path)])
    assert result.exit_code == 1
    assert "Erreur" in result.output and "ligne 2, colonne Libellé : cellule de plus de 131072 caractères" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("char, shown", [("\x0b", "U+000B"), ("\x00", "U+0000")])
def test_operations_load_refuses_control_characters_in_titles(app, runner, tmp_path, char, shown):
    path = tmp_path / "operation.toml"
    path.write_text(_operation_toml(f"Atelier{char}chantier"), encoding="utf-8")
    result = runner.invoke(args=["operations", "load", str(path)])
    assert result.exit_code == 1
    assert f"operation.title : caractère de contrôle interdit ({shown})" in result.output
    from budget_app.operations.models import Operation
    from budget_app.kernel.extensions import db

    assert db.session.scalar(db.select(Operation).filter_by(code="OP-CTRL")) is None


def _operation_toml(title: str) -> str:
    escaped = title.replace("\x00", "\\u0000").replace("\x0b", "\\u000B")
    return f'''
[organisation]
name = "Département de test"
kind = "collectivite"

[operation]
code = "OP-CTRL"
title = "{escaped}"
start_date = 2023-01-01
end_date = 2023-12-31
fse_rate = 60
fse_amount = 600.00

[[plan.costs]]
category = "PERSONNEL"
year = 2023
amount = 1000.00

[[plan.resources]]
kind = "fse"
name = "FSE+"
amount = 600.00

[[plan.resources]]
kind = "self"
name = "Autofinancement"
amount = 400.00
'''
