"""The administrator's envelope forms: what was typed stays, each field says its problem in
plain words, codes are matched without regard to case, an operation only goes into an
envelope that covers its dates, and moving it out of another envelope is confirmed first."""
from datetime import date

from sqlalchemy import select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.operations.models import Envelope, Operation

ENVELOPE = {"code": "ENV-1", "name": "Enveloppe PLIE", "organisation": "PLIE de test", "fse_amount": "1 000 000,00",
            "start_date": "2023-01-01", "end_date": "2027-12-31"}


def _page_after(client, response):
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_refused_envelope_keeps_what_was_typed_and_names_each_field(client, login, make_user):
    login(client, make_user("admin"))
    typed = {**ENVELOPE, "code": "HL FSE", "fse_amount": "2,4 M€", "start_date": "2027-12-31", "end_date": "2021-01-01"}
    page = _page_after(client, client.post("/enveloppes/nouvelle", data=typed))
    assert db.session.scalar(select(Envelope)) is None
    assert 'value="HL FSE"' in page and 'value="2,4 M€"' in page and 'value="Enveloppe PLIE"' in page
    assert "n&#39;est pas un montant valide (exemple : 1 234,56)" in page
    assert "envelope.code" not in page and "code invalide" in page  # under the code field, in words
    # Once the amount is right, the rules speak of each field by its name.
    page = _page_after(client, client.post("/enveloppes/nouvelle", data={**typed, "fse_amount": "2 400 000"}))
    assert "la date de fin doit être postérieure à la date de début" in page
    assert 'id="env-end-error"' in page and 'id="env-code-error"' in page and "envelope." not in page


def test_an_english_admin_types_amounts_as_english_pages_print_them(client, login, make_user):
    login(client, make_user("admin", locale="en"))
    client.post("/enveloppes/nouvelle", data={**ENVELOPE, "fse_amount": "1,250,000.50"})
    assert db.session.scalar(select(Envelope.fse_amount)) == __import__("decimal").Decimal("1250000.50")
    page = _page_after(client, client.post("/enveloppes/nouvelle", data={**ENVELOPE, "code": "ENV-2", "fse_amount": "1,25"}))
    assert "ambiguous on an English page: write for example 1,234.56" in page


def test_codes_without_regard_to_case_and_the_envelope_period(client, login, make_user, make_operation):
    make_operation("LOT-2019-ACI", start_date=date(2019, 1, 1), end_date=date(2019, 12, 31), fse_amount=10)
    make_operation("HL-RSA-2023", fse_amount=10)
    db.session.commit()
    login(client, make_user("admin"))
    client.post("/enveloppes/nouvelle", data={**ENVELOPE, "code": "HL-2021", "start_date": "2021-01-01"})
    page = _page_after(client, client.post("/enveloppes/rattachement", data={"operation": "lot-2019-aci", "envelope": "hl-2021"}))
    assert "hors de la période de l&#39;enveloppe HL-2021 (du 01/01/2021 au 31/12/2027)" in page
    assert db.session.scalar(select(Operation).filter_by(code="LOT-2019-ACI")).envelope_id is None
    client.post("/enveloppes/rattachement", data={"operation": "hl-rsa-2023", "envelope": "hl-2021"})
    assert db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023")).envelope.code == "HL-2021"
    page = _page_after(client, client.post("/enveloppes/rattachement", data={"operation": "NOPE", "envelope": ""}))
    assert "Aucune opération n&#39;a le code « NOPE »" in page and 'value="NOPE"' in page


def test_moving_an_operation_from_another_envelope_asks_first(client, login, make_user, make_operation):
    make_operation("HL-RSA-2023", fse_amount=10)
    db.session.commit()
    login(client, make_user("admin"))
    client.post("/enveloppes/nouvelle", data=ENVELOPE)
    client.post("/enveloppes/nouvelle", data={**ENVELOPE, "code": "ENV-2"})
    client.post("/enveloppes/rattachement", data={"operation": "HL-RSA-2023", "envelope": "ENV-1"})
    page = _page_after(client, client.post("/enveloppes/rattachement", data={"operation": "HL-RSA-2023", "envelope": "ENV-2"}))
    assert "HL-RSA-2023 est rattachée à l&#39;enveloppe ENV-1 : la déplacer vers ENV-2 ?" in page
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    assert operation.envelope.code == "ENV-1"
    client.post("/enveloppes/rattachement", data={"operation": "HL-RSA-2023", "envelope": "ENV-2", "confirm_move": "1"})
    db.session.expire_all()
    assert db.session.get(Operation, operation.id).envelope.code == "ENV-2"
    entry = db.session.scalars(select(AuditEntry).filter_by(action="envelope_attachment").order_by(AuditEntry.id.desc())).first()
    assert entry.before == {"envelope": "ENV-1"} and entry.after == {"envelope": "ENV-2"}


def test_accounts_match_operation_codes_without_regard_to_case(client, login, make_user, make_operation):
    make_operation("HL-RSA-2023")
    db.session.commit()
    login(client, make_user("admin"))
    page = client.post("/admin/utilisateurs", data={"email": "new@example.org", "role": "finance_officer",
                                                     "operations": "hl-rsa-2023"}).get_data(as_text=True)
    assert "Compte créé" in page
    page = client.post("/admin/utilisateurs", data={"email": "other@example.org", "role": "finance_officer",
                                                     "operations": "NOPE-1"}).get_data(as_text=True)
    # The refusal sits under the operations' field, not the e-mail's.
    operations_field = page.split('id="operations"')[1].split("</div>")[0]
    assert "Aucune opération n&#39;a ce code : NOPE-1." in operations_field
    assert 'value="other@example.org"' in page and 'value="NOPE-1"' in page
