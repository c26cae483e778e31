"""A finance officer enters, lists, edits and deletes expenses; others read or get 404."""
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete as sa_delete
from sqlalchemy import select

from budget_app.marks.services import declare, place_hold
from budget_app.kernel.errors import Conflict
from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.expenses.services import create_expense
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db

from .conftest import PDF_BYTES, PNG_BYTES, form_values


def post_expense(client, files=True, **overrides):
    data = form_values(**overrides)
    if files:
        data["invoice"] = (io.BytesIO(PDF_BYTES), "facture.pdf")
        data["payment"] = (io.BytesIO(PNG_BYTES + b"1"), "releve.png")
    return client.post("/operations/LOT-2019-ACI/depenses/nouvelle", data=data, content_type="multipart/form-data")


def test_officer_enters_an_expense_with_invoice_and_proof_of_payment(app, client, login, officer, lot):
    login(client, officer)
    assert client.get("/operations/LOT-2019-ACI/depenses/nouvelle").status_code == 200
    response = post_expense(client, amount_excl_vat="1 250,00", vat="250,00", allocation_percent="60")
    assert response.status_code == 302
    expense = db.session.scalar(select(Expense))
    assert expense.eligible_amount == Decimal("900.00")
    assert expense.is_complete
    assert {document.kind for document in expense.documents} == {"invoice", "payment"}
    upload_dir = Path(app.config["BUDGET_APP_UPLOAD_DIR"])
    for document in expense.documents:
        assert (upload_dir / document.stored_name).read_bytes()[:4] in (b"%PDF", b"\x89PNG")
        assert "facture" not in document.stored_name
    page = client.get(f"/operations/LOT-2019-ACI/depenses/{expense.id}").get_data(as_text=True)
    assert "(1\u202f250,00\xa0€ + 250,00\xa0€) × 60,00\xa0% = 900,00\xa0€" in page
    listing = client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)
    assert "Fournitures de bureau" in listing and "900,00\xa0€" in listing
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "expenses")).all()
    assert entries and entries[0].actor == "user:gestionnaire@example.org"


def test_bad_input_names_the_field_and_saves_nothing(client, login, officer, lot):
    login(client, officer)
    response = post_expense(client, files=False, amount_excl_vat="12,345.678", incurred_on="2018-12-31", category="PARTICIPANTS")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "hors de la période" in page and "ambigu" in page
    assert db.session.scalar(select(Expense)) is None


def test_after_a_form_error_the_files_to_choose_again_are_named(client, login, officer, lot):
    login(client, officer)
    response = post_expense(client, amount_excl_vat="douze")
    page = response.get_data(as_text=True)
    assert "choisissez de nouveau le(s) fichier(s) : facture.pdf, releve.png" in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="amount_excl_vat-error"' in page
    assert db.session.scalar(select(Expense)) is None


def test_bad_file_is_refused_with_the_form(client, login, officer, lot):
    login(client, officer)
    data = form_values()
    data["invoice"] = (io.BytesIO(PDF_BYTES), "facture.png")
    response = client.post("/operations/LOT-2019-ACI/depenses/nouvelle", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "ne correspond pas" in response.get_data(as_text=True)
    assert db.session.scalar(select(Expense)) is None


def test_file_over_the_limit_gets_the_413_page(app, client, login, officer, lot):
    app.config["UPLOAD_MAX_BYTES"] = 20
    login(client, officer)
    response = post_expense(client)
    assert response.status_code == 413
    assert "taille maximale" in response.get_data(as_text=True)
    assert db.session.scalar(select(Expense)) is None


def test_duplicate_is_warned_then_saved_on_confirmation(client, login, officer, lot):
    login(client, officer)
    assert post_expense(client, files=False, allocation_percent="50").status_code == 302
    response = post_expense(client, files=False, allocation_percent="50", supplier_name="BUREAU VALLEE - Cahors")
    assert response.status_code == 200
    assert "Doublon possible" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Expense)).all()) == 1
    response = post_expense(client, files=False, allocation_percent="50", confirm_duplicates="y")
    assert response.status_code == 302
    # A third line of the same invoice would fund it at 150 %: refused.
    response = post_expense(client, files=False, allocation_percent="50", confirm_duplicates="y")
    assert "double financement" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Expense)).all()) == 2
    report = client.get("/depenses/doublons").get_data(as_text=True)
    assert "Même fournisseur et même n° de pièce" in report


def test_same_file_attached_twice_is_flagged(client, login, officer, lot):
    login(client, officer)
    post_expense(client)
    post_expense(client, document_number="FA-2", amount_excl_vat="10,00", confirm_duplicates="y")
    expenses = db.session.scalars(select(Expense).order_by(Expense.id)).all()
    assert len(expenses) == 2
    page = client.get(f"/operations/LOT-2019-ACI/depenses/{expenses[1].id}").get_data(as_text=True)
    assert "même fichier joint" in page
    assert "Même fichier joint plusieurs fois" in client.get("/depenses/doublons").get_data(as_text=True)


def test_concurrent_edit_gets_a_clear_message_and_keeps_the_input(client, login, officer, lot, expense_data):
    expense = create_expense(lot, expense_data())
    db.session.commit()
    login(client, officer)
    url = f"/operations/LOT-2019-ACI/depenses/{expense.id}/modifier"
    form = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    # Someone else saves first.
    assert client.post(url, data=form_values(label="Première modification", version=version)).status_code == 302
    response = client.post(url, data=form_values(label="Seconde modification", version=version))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "autre a modifié cette dépense" in page
    assert 'value="Seconde modification"' in page  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).label == "Première modification"


def test_soft_delete_needs_a_reason(client, login, officer, lot, expense_data):
    expense = create_expense(lot, expense_data())
    db.session.commit()
    login(client, officer)
    url = f"/operations/LOT-2019-ACI/depenses/{expense.id}/supprimer"
    version = str(expense.version)
    client.post(url, data={"reason": "", "version": version})
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).deleted_at is None
    client.post(url, data={"reason": "Saisie en double", "version": version})
    db.session.expire_all()
    deleted = db.session.get(Expense, expense.id)
    assert deleted.deleted_at is not None and deleted.delete_reason == "Saisie en double"
    assert "Fournitures de bureau" not in client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)


def test_line_of_a_submitted_claim_cannot_be_changed(client, login, officer, lot, expense_data):
    from budget_app.claims.models import Claim

    claim = Claim(operation_id=lot.id, number=2, period_start=date(2019, 1, 1), period_end=date(2019, 6, 30), state="submitted")
    db.session.add(claim)
    expense = create_expense(lot, expense_data())
    db.session.flush()
    declare("expense", [expense.id], claim.id, Conflict(""))
    db.session.commit()
    login(client, officer)
    detail = f"/operations/LOT-2019-ACI/depenses/{expense.id}"
    version = str(expense.version)
    client.post(f"{detail}/modifier", data=form_values(label="x", version=version))
    assert "bilan n° 2" in client.get(detail).get_data(as_text=True)
    client.post(f"{detail}/supprimer", data={"reason": "x", "version": version})
    assert "bilan n° 2" in client.get(detail).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).deleted_at is None
    assert "Dans un bilan" in client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)


def test_download_is_an_attachment_for_allowed_users_only(app, client, login, officer, lot, make_user, make_operation):
    login(client, officer)
    post_expense(client)
    document = db.session.scalar(select(SupportingDocument).where(SupportingDocument.kind == "invoice"))
    url = f"/operations/LOT-2019-ACI/pieces/{document.id}"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    stranger = make_user("finance_officer")
    other = app.test_client()
    login(other, stranger)
    assert other.get(url).status_code == 404
    make_operation("OTHER", members=[stranger])
    assert other.get(f"/operations/OTHER/pieces/{document.id}").status_code == 404
    auditor = app.test_client()
    login(auditor, make_user("auditor"))
    assert auditor.get(url).status_code == 200
    assert auditor.post("/operations/LOT-2019-ACI/depenses/nouvelle", data=form_values()).status_code == 403


def test_list_filters_sorts_pages_and_totals_in_the_database(client, login, officer, lot, expense_data):
    for day in range(1, 29):
        create_expense(lot, expense_data(
            incurred_on=date(2019, 2, day), paid_on=date(2019, 3, 1), document_number=f"F-{day}",
            category="PRESTATIONS" if day % 2 else "FONCTIONNEMENT", amount_excl_vat=Decimal(day), vat=Decimal("0"),
            supplier_name=f"Fournisseur {day}",
        ))
    db.session.commit()
    login(client, officer)
    from budget_app.expenses import listing

    filters = listing.Filters(category="PRESTATIONS")
    totals = listing.totals(lot.id, filters)
    assert totals.count == 14 and totals.eligible_amount == Decimal(sum(range(1, 29, 2)))
    seen = []
    page = listing.page(lot.id, listing.Filters(), size=10)
    while True:
        seen.extend(row[0].incurred_on.day for row in page.rows)
        if not page.has_next:
            break
        page = listing.page(lot.id, listing.Filters(), after=page.next_cursor, size=10)
    assert seen == list(range(28, 0, -1))
    back = listing.page(lot.id, listing.Filters(), before=page.prev_cursor, size=10)
    assert [row[0].incurred_on.day for row in back.rows] == list(range(18, 8, -1))
    last = listing.page(lot.id, listing.Filters(sort="montant", descending=False), last=True, size=10)
    assert [row[0].amount_excl_vat for row in last.rows][-1] == Decimal(28)
    page = client.get("/operations/LOT-2019-ACI/depenses?category=PRESTATIONS&q=Fournitures&start=2019-02-01&end=2019-02-10")
    text = page.get_data(as_text=True)
    assert "Total des 5 ligne(s) filtrées" in text
    assert client.get("/operations/LOT-2019-ACI/depenses?q=' OR 1=1--&apres=garbage&sort=x").status_code == 200


def test_incomplete_state_filter(client, login, officer, lot, expense_data):
    create_expense(lot, expense_data())
    db.session.commit()
    login(client, officer)
    text = client.get("/operations/LOT-2019-ACI/depenses?state=incomplete").get_data(as_text=True)
    assert "Total des 1 ligne(s)" in text
    text = client.get("/operations/LOT-2019-ACI/depenses?state=draft").get_data(as_text=True)
    assert "Total des 0 ligne(s)" in text


def test_suspected_lines_are_flagged(monkeypatch, client, login, officer, lot, expense_data):
    expense = create_expense(lot, expense_data())
    db.session.commit()
    place_hold("expense", expense.id)  # as a suspicion does (the mark says neither who nor why)
    db.session.commit()
    login(client, officer)
    page = client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)
    # A neutral hold for everyone but the anti-fraud referent (issue 13).
    assert 'data-testid="hold">en attente<' in page and "signalée" not in page and "suspicion" not in page


def test_monthly_totals_kept_by_the_database_match_the_lines(lot, expense_data):
    """The triggers of migration 0006 keep expense_month_totals whatever writes the lines."""
    import random

    from budget_app.expenses import listing
    from budget_app.expenses.services import delete_expense

    rng = random.Random(5)
    lines = []
    for number in range(40):
        lines.append(create_expense(lot, expense_data(
            incurred_on=date(2019, rng.randrange(1, 13), rng.randrange(1, 29)), paid_on=date(2019, 12, 31),
            document_number=f"T-{number}", category=rng.choice(["FONCTIONNEMENT", "PRESTATIONS"]),
            amount_excl_vat=Decimal(rng.randrange(1, 100000)) / 100, allocation_percent=Decimal(rng.choice([100, 60, "33.3333"])),
        )))
    db.session.commit()
    for expense in lines[:10]:
        expense.incurred_on = date(2019, 7, 14)
        expense.category = "PRESTATIONS"
        expense.amount_excl_vat += Decimal("1.01")
    for expense in lines[10:15]:
        delete_expense(expense, "test")
    # A hard delete in SQL (the application refuses one through the ORM before the end of
    # retention, CPR 82): the triggers keep the totals whatever writes the table.
    db.session.execute(sa_delete(Expense).where(Expense.id == lines[20].id))
    db.session.commit()
    for filters in (
        listing.Filters(),
        listing.Filters(category="PRESTATIONS"),
        listing.Filters(start=date(2019, 4, 1), end=date(2019, 6, 30)),
        listing.Filters(category="FONCTIONNEMENT", start=date(2019, 7, 1)),
    ):
        assert listing._month_aligned(filters)
        assert listing.totals(lot.id, filters) == listing.totals_of_lines(lot.id, filters)
    assert listing.totals(lot.id, listing.Filters()).count == 34


def test_dates_in_a_refusal_are_in_the_reader_language(client, login, make_user, officer, lot):
    """LOT-2019-ACI runs from 01/01/2019 to 31/12/2019: an invoice of 31/12/2018 is refused
    with the dates as the reader's pages show them (French dd/mm/yyyy, English ISO)."""
    login(client, officer)
    page = post_expense(client, files=False, incurred_on="2018-12-31").get_data(as_text=True)
    assert "le 31/12/2018 est hors de la période d&#39;éligibilité de l&#39;opération (du 01/01/2019 au 31/12/2019)" in page
    english = make_user("finance_officer", operations=["LOT-2019-ACI"], locale="en")
    login(client, english)
    page = post_expense(client, files=False, incurred_on="2018-12-31").get_data(as_text=True)
    assert "2018-12-31 is outside the operation&#39;s eligibility period (2019-01-01 to 2019-12-31)" in page
    assert "31/12/2018" not in page.split("<form")[1]  # the typed value is shown back as typed
    assert db.session.scalar(select(Expense)) is None


def test_each_line_shows_the_state_of_its_own_bilan(client, login, officer, lot, expense_data):
    """Two lines of the operation without their documents, one declared in a submitted
    bilan: only that one reads « Dans un bilan », the other stays « Incomplète » (the state
    is read per line, not from whichever line was declared first), and the state filter
    counts one of each."""
    from budget_app.claims.models import Claim

    claim = Claim(operation_id=lot.id, number=1, period_start=date(2019, 1, 1), period_end=date(2019, 6, 30), state="submitted")
    db.session.add(claim)
    declared = create_expense(lot, expense_data(label="Loyer de janvier"))
    create_expense(lot, expense_data(label="Loyer de février", document_number="F-2"))
    db.session.flush()
    declare("expense", [declared.id], claim.id, Conflict(""))
    db.session.commit()
    login(client, officer)
    text = client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)
    rows = {label: row for row in text.split("<tr>") for label in ("Loyer de janvier", "Loyer de février") if label in row}
    assert "Dans un bilan" in rows["Loyer de janvier"] and "Incomplète" not in rows["Loyer de janvier"]
    assert "Incomplète" in rows["Loyer de février"] and "Dans un bilan" not in rows["Loyer de février"]
    for state in ("claimed", "incomplete"):
        text = client.get(f"/operations/LOT-2019-ACI/depenses?state={state}").get_data(as_text=True)
        assert "Total des 1 ligne(s)" in text


def test_each_line_carries_its_own_marks_and_link(client, login, officer, lot, expense_data):
    """Three lines read in one query for the page's marks: « Loyer » has its two documents
    (invoice, proof of payment) and no look-alike; « Copie A » and « Copie B » share the
    supplier and the invoice number (each a possible duplicate of the other, half of the
    invoice each, no document);
    only « Copie B » is held. Each n° links to its own line."""
    login(client, officer)
    post_expense(client, label="Loyer", document_number="L-1", supplier_name="SCI du Lot")
    copy_a = create_expense(lot, expense_data(label="Copie A", document_number="C-7", allocation_percent=Decimal("50")))
    copy_b = create_expense(lot, expense_data(label="Copie B", document_number="C-7", allocation_percent=Decimal("50"),
                                              amount_excl_vat=Decimal("10.00")))
    db.session.commit()
    place_hold("expense", copy_b.id)
    db.session.commit()
    rent = db.session.scalar(select(Expense).where(Expense.label == "Loyer"))
    text = client.get("/operations/LOT-2019-ACI/depenses").get_data(as_text=True)
    rows = {label: row for row in text.split("<tr>") for label in ("Loyer", "Copie A", "Copie B") if f"<td>{label}</td>" in row}
    assert "pièces : 2" in rows["Loyer"] and "doublon possible" not in rows["Loyer"] and "hold" not in rows["Loyer"]
    assert "pièces : 0" in rows["Copie A"] and "doublon possible" in rows["Copie A"] and "hold" not in rows["Copie A"]
    assert "pièces : 0" in rows["Copie B"] and "doublon possible" in rows["Copie B"] and 'data-testid="hold"' in rows["Copie B"]
    for expense, label in ((rent, "Loyer"), (copy_a, "Copie A"), (copy_b, "Copie B")):
        assert f'<a href="/operations/LOT-2019-ACI/depenses/{expense.id}">{expense.id}</a>' in rows[label]
