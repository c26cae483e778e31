"""Partial VAT recovery (CPR 64(1)(c); expenses.vat): an operation's pro-rata per year,
applied to expenses marked partially recoverable, recomputing only lines not yet declared.

Golden example, by hand (operation LOT-2019-ACI, pro-rata 2019 = 35 %):
  1 000,00 € HT + TVA 200,00 € × (100 % − 35 %) = 1 000,00 + 130,00 = 1 130,00 €
  with a 50 % allocation key: 1 130,00 × 50 % = 565,00 €
  245,80 € HT + TVA 49,16 € × 65 % = 245,80 + 31,954 = 277,754 -> 277,75 € (rounded once)
The pro-rata changed to 40 %: the undeclared line becomes 1 000,00 + 200,00 × 60 % =
1 120,00 €; a line declared in a bilan keeps 1 130,00 € and its 35 %.
"""
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from budget_app.expenses import vat
from budget_app.expenses.imports import import_file
from budget_app.expenses.models import Expense
from budget_app.expenses.amounts import eligible_amount, eligible_computation
from budget_app.expenses.services import create_expense
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import Conflict, DomainError
from budget_app.kernel.extensions import db
from budget_app.marks.services import declare
from budget_app.operations.models import VatProrata

D = Decimal


def test_golden_amounts():
    assert eligible_amount(D("1000.00"), D("200.00"), False, D("100"), D("35")) == D("1130.00")
    assert eligible_amount(D("1000.00"), D("200.00"), False, D("50"), D("35")) == D("565.00")
    assert eligible_amount(D("245.80"), D("49.16"), False, D("100"), D("35")) == D("277.75")
    # Fully recoverable VAT ignores any pro-rata; no pro-rata counts all the VAT.
    assert eligible_amount(D("1000.00"), D("200.00"), True, D("100"), D("35")) == D("1000.00")
    assert eligible_amount(D("1000.00"), D("200.00"), False, D("100")) == D("1200.00")


def _partial(expense_data, **overrides):
    return expense_data(amount_excl_vat=D("1000.00"), vat=D("200.00"), vat_partly_recoverable=True, **overrides)


def test_a_partly_recoverable_line_needs_the_year_pro_rata(lot, expense_data):
    with pytest.raises(DomainError) as refused:
        create_expense(lot, _partial(expense_data))
    assert ("aucun prorata de TVA n'est enregistré pour 2019 sur l'opération LOT-2019-ACI"
            in " ".join(problem.message for problem in refused.value.problems))
    with pytest.raises(DomainError) as refused:
        create_expense(lot, _partial(expense_data, vat_recoverable=True))
    assert any(problem.field == "vat_partly_recoverable" and "pas les deux" in problem.message
               for problem in refused.value.problems)
    assert db.session.scalar(select(func.count(Expense.id))) == 0


def test_golden_line_its_computation_and_the_recompute(lot, expense_data):
    outcome = vat.set_vat_prorata(lot, 2019, D("35"))
    assert (outcome.before, outcome.recomputed, outcome.kept) == (None, 0, 0)
    kept = create_expense(lot, _partial(expense_data))
    moved = create_expense(lot, _partial(expense_data, document_number="FA-2019-0400", label="Autre"))
    db.session.flush()
    assert (kept.eligible_amount, kept.vat_prorata) == (D("1130.00"), D("35"))
    assert eligible_computation(kept, "fr").replace("\u00a0", " ").replace("\u202f", " ") == (
        "(1 000,00 € HT + TVA 200,00 € × (100 % − 35 % prorata)) × 100,00 % = 1 130,00 €")
    declare("expense", [kept.id], 1, Conflict("taken"))
    outcome = vat.set_vat_prorata(lot, 2019, D("40"))
    assert (outcome.before, outcome.recomputed, outcome.kept) == (D("35"), 1, 1)
    db.session.refresh(kept)
    db.session.refresh(moved)
    assert (kept.eligible_amount, kept.vat_prorata) == (D("1130.00"), D("35"))  # declared: unchanged
    assert (moved.eligible_amount, moved.vat_prorata) == (D("1120.00"), D("40"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "vat_prorata")
                              .order_by(AuditEntry.id.desc()))
    assert D(entry.before["percent"]) == D("35") and D(entry.after["percent"]) == D("40")
    assert entry.after["recomputed"] == 1 and entry.after["kept"] == 1
    # The recomputed line's own change is in the trail too.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "expenses", AuditEntry.object_id == str(moved.id), AuditEntry.action == "update")) == 1


def test_credit_note_follows_its_line(lot, expense_data):
    vat.set_vat_prorata(lot, 2019, D("35"))
    line = create_expense(lot, _partial(expense_data))
    db.session.flush()
    note = create_expense(lot, expense_data(amount_excl_vat=D("-100.00"), vat=D("-20.00"), credit_note_of_id=line.id,
                                            document_number="AV-1", incurred_on=date(2019, 4, 2)))
    db.session.flush()
    # The note takes its line's VAT treatment: -100,00 + -20,00 × 65 % = -113,00 €.
    assert (note.vat_partly_recoverable, note.vat_prorata, note.eligible_amount) == (True, D("35"), D("-113.00"))
    vat.set_vat_prorata(lot, 2019, D("40"))
    db.session.refresh(note)
    assert (note.vat_prorata, note.eligible_amount) == (D("40"), D("-112.00"))


def test_bad_pro_rata_refused_by_name(lot):
    with pytest.raises(DomainError) as refused:
        vat.set_vat_prorata(lot, 2030, D("35"))
    assert refused.value.field == "year"
    with pytest.raises(DomainError) as refused:
        vat.set_vat_prorata(lot, 2019, D("120"))
    assert refused.value.field == "percent"
    assert db.session.scalar(select(func.count(VatProrata.id))) == 0


HEADER = ("Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;"
          "Affectation (%);TVA partiellement récupérable (prorata)\n")


def test_import_column(lot):
    rows = HEADER + "04/03/2019;15/03/2019;Bureau Vallée;;FA-1;Fournitures;FONCTIONNEMENT;245,80;49,16;non;100;oui\n"
    with pytest.raises(DomainError) as refused:
        import_file(lot, rows.encode(), "d.csv")
    assert ("ligne 2, colonne TVA partiellement récupérable (prorata) : aucun prorata de TVA"
            in "\n".join(str(problem) for problem in refused.value.problems))
    vat.set_vat_prorata(lot, 2019, D("35"))
    import_file(lot, rows.encode(), "d.csv")
    expense = db.session.scalar(select(Expense))
    assert (expense.eligible_amount, expense.vat_prorata) == (D("277.75"), D("35"))


def test_page_and_form(client, login, officer, lot):
    login(client, officer)
    response = client.post("/operations/LOT-2019-ACI/depenses/prorata-tva", data={"year": "2019", "percent": "abc"})
    assert response.status_code == 200 and db.session.scalar(select(func.count(VatProrata.id))) == 0
    response = client.post("/operations/LOT-2019-ACI/depenses/prorata-tva", data={"year": "2019", "percent": "35"})
    assert response.status_code == 302
    page = client.get("/operations/LOT-2019-ACI/depenses/prorata-tva").get_data(as_text=True)
    assert "2019" in page and "35" in page
    response = client.post("/operations/LOT-2019-ACI/depenses/nouvelle", data={
        "incurred_on": "2019-03-04", "paid_on": "2019-03-15", "supplier_name": "Bureau Vallée", "supplier_siret": "",
        "document_number": "FA-9", "label": "Fournitures", "category": "FONCTIONNEMENT", "amount_excl_vat": "1000,00",
        "vat": "200,00", "vat_partly_recoverable": "y", "allocation_percent": "100",
        "invoice": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "f.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    expense = db.session.scalar(select(Expense))
    assert expense.eligible_amount == D("1130.00")
    page = client.get(f"/operations/LOT-2019-ACI/depenses/{expense.id}").get_data(as_text=True)
    assert "35 % prorata" in page.replace("\u00a0", " ").replace("\u202f", " ")


def test_statement_shows_the_pro_rata(lot, expense_data):
    from openpyxl import load_workbook

    from budget_app.claims import exports
    from budget_app.claims.report import build_report

    vat.set_vat_prorata(lot, 2019, D("35"))
    create_expense(lot, _partial(expense_data))
    create_expense(lot, expense_data(document_number="FA-2", label="Sans prorata"))
    db.session.commit()
    report = build_report(lot, date(2019, 1, 1), date(2019, 12, 31))
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))["Dépenses"]
    header = next(row for row in sheet.iter_rows(values_only=True) if row and "Prorata de TVA" in row)
    column = header.index("Prorata de TVA")
    rows = {row[1]: row for row in sheet.iter_rows(values_only=True) if row and row[1] in ("Fournitures de bureau",
                                                                                          "Sans prorata")}
    assert rows["Fournitures de bureau"][column] == pytest.approx(0.35)
    assert rows["Fournitures de bureau"][header.index("Montant éligible")] == pytest.approx(1130)
    assert rows["Sans prorata"][column] is None
