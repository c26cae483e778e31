"""Credit notes (avoirs) by command (`expenses credit-note`) and in the expense import
(column « Avoir sur la dépense n° »), with the web form's rules: negative amounts, the
line's category, key and VAT treatment, never below zero, bad rows named, nothing written."""
from decimal import Decimal as D

from sqlalchemy import select

from budget_app.expenses.models import Expense
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db

HEADER = ("Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;"
          "TVA récupérable;Affectation (%);Avoir sur la dépense n°\n")
LOC = "08/03/2019;22/03/2019;Loc'Outils Quercy;;LQ-1902;Location de débroussailleuses;FONCTIONNEMENT;1 250,00;250,00;non;60;\n"


def _import(runner, tmp_path, text, name="avoirs.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(path)])


def _original(runner, tmp_path):
    """Loc'Outils invoice: 1 250,00 € HT + 250,00 € VAT (not recoverable), 60 % on the
    operation: eligible 1 500,00 × 60 % = 900,00 €."""
    assert _import(runner, tmp_path, LOC, "facture.csv").exit_code == 0
    original = db.session.scalar(select(Expense).where(Expense.document_number == "LQ-1902"))
    assert original.eligible_amount == D("900.00")
    return original


def test_a_credit_note_by_command_takes_the_lines_terms(lot, runner, tmp_path):
    """Avoir AV-12 of −250,00 € HT, −50,00 € VAT on it: 60 % of −300,00 = −180,00 € eligible,
    category and key taken from the invoice; an audit entry records the creation."""
    original = _original(runner, tmp_path)
    result = runner.invoke(args=["expenses", "credit-note", "LOT-2019-ACI", str(original.id), "--amount", "-250,00",
                                 "--vat", "-50,00", "--date", "25/03/2019", "--paid-on", "28/03/2019",
                                 "--number", "AV-12"])
    assert result.exit_code == 0, result.output
    note = db.session.scalar(select(Expense).where(Expense.document_number == "AV-12"))
    assert (note.credit_note_of_id, note.category, note.allocation_percent, note.eligible_amount) == (
        original.id, "FONCTIONNEMENT", D("60.0000"), D("-180.00"))
    assert "éligible -180,00" in result.output.replace("\u202f", " ").replace("\xa0", " ").replace("\u2212", "-")
    entries = db.session.scalars(select(AuditEntry)).all()
    assert any(e.object_type == "expenses" and e.action == "create" and e.after["id"] == note.id
               and e.after["credit_note_of_id"] == original.id for e in entries)


def test_a_credit_note_by_command_is_refused_like_the_form(lot, runner, tmp_path):
    """A positive amount, more than the line (−1 250,01 € HT), an unknown line: each refused
    with the form's words, exit 1, nothing written."""
    original = _original(runner, tmp_path)
    base = ["expenses", "credit-note", "LOT-2019-ACI", str(original.id), "--date", "25/03/2019",
            "--paid-on", "28/03/2019", "--number", "AV-13"]
    positive = runner.invoke(args=base + ["--amount", "100,00"])
    assert positive.exit_code == 1 and "un avoir a un montant négatif" in positive.output
    too_much = runner.invoke(args=base + ["--amount", "-1 250,01"])
    assert too_much.exit_code == 1 and "dépasse ce qui reste de la dépense" in too_much.output
    unknown = runner.invoke(args=["expenses", "credit-note", "LOT-2019-ACI", "999999", "--amount", "-1,00", "--date",
                                  "25/03/2019", "--paid-on", "28/03/2019", "--number", "AV-14"])
    assert unknown.exit_code == 1 and "Aucune dépense n° 999999" in unknown.output
    assert db.session.scalar(select(Expense).where(Expense.credit_note_of_id.is_not(None))) is None


def test_credit_notes_in_the_import_name_the_line_they_reduce(lot, runner, tmp_path):
    """Two avoirs on the invoice in one file, −1 000,00 and −250,00 € HT (VAT −200,00 and
    −50,00): together exactly the invoice, accepted; category, VAT and key cells may be
    empty (taken from the line). Eligible: 60 % of −1 200,00 = −720,00 and of −300,00 = −180,00."""
    original = _original(runner, tmp_path)
    rows = (f"20/03/2019;25/03/2019;Loc'Outils Quercy;;AV-1;Avoir partiel;;-1 000,00;-200,00;;;{original.id}\n"
            f"21/03/2019;25/03/2019;Loc'Outils Quercy;;AV-2;Avoir solde;;-250,00;-50,00;;;#{original.id}\n")
    result = _import(runner, tmp_path, rows)
    assert result.exit_code == 0, result.output
    notes = db.session.scalars(select(Expense).where(Expense.credit_note_of_id == original.id)
                               .order_by(Expense.document_number)).all()
    assert [(note.document_number, note.eligible_amount) for note in notes] == [("AV-1", D("-720.00")),
                                                                               ("AV-2", D("-180.00"))]


def test_credit_notes_of_one_file_never_take_the_line_below_zero_together(lot, runner, tmp_path):
    """−1 000,00 then −250,01 € HT on the 1 250,00 € invoice: the second row goes below zero
    with the first: the file is refused naming row 3 and its column, nothing written. A
    number that is not an expense's is named too."""
    original = _original(runner, tmp_path)
    rows = (f"20/03/2019;25/03/2019;Loc'Outils Quercy;;AV-1;Avoir partiel;;-1 000,00;0,00;;;{original.id}\n"
            f"21/03/2019;25/03/2019;Loc'Outils Quercy;;AV-2;Avoir solde;;-250,01;0,00;;;{original.id}\n"
            f"22/03/2019;25/03/2019;Loc'Outils Quercy;;AV-3;Avoir;;-1,00;0,00;;;douze\n")
    result = _import(runner, tmp_path, rows)
    assert result.exit_code == 1
    assert "ligne 3, colonne Montant HT : l'avoir" in result.output
    assert "ligne 4, colonne Avoir sur la dépense n° : numéro de dépense attendu" in result.output
    assert db.session.scalar(select(Expense).where(Expense.credit_note_of_id.is_not(None))) is None
    negative = _import(runner, tmp_path, "20/03/2019;25/03/2019;X;;N-1;Sans avoir;FONCTIONNEMENT;-5,00;0,00;non;100;\n",
                       "negatif.csv")
    assert negative.exit_code == 1 and "ligne 2, colonne Montant HT" in negative.output
