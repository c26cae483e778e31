"""`flask expenses documents import CODE FILE.zip`: a ZIP of documents and a pieces.csv
naming them per expense; each row checked, every problem named, nothing half done."""
import io
import zipfile

from sqlalchemy import select

from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.kernel.extensions import db

from .factories import PDF, make_expense

HEADER = "Dépense n°;Facture;Preuve de paiement;Autre pièce\n"


def _zip(tmp_path, index: str, files: dict, name="pieces.zip", index_name="pieces.csv"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(index_name, index.encode("utf-8"))
        for path, data in files.items():
            archive.writestr(path, data)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return str(path)


def _documents():
    return db.session.scalar(select(db.func.count()).select_from(SupportingDocument))


def test_a_zip_completes_several_imported_expenses(app, runner, make_operation, tmp_path):
    """Two expenses imported without documents: the archive gives each an invoice and a
    proof (in sub-folders); both become complete."""
    operation = make_operation("HL-RSA-2023")
    first, second = (make_expense(operation, amount, complete=False) for amount in ("120.00", "80.00"))
    files = {"factures/F1.pdf": PDF + b"% f1\n", "releves/R1.pdf": PDF + b"% r1\n",
             "factures/F2.pdf": PDF + b"% f2\n", "releves/R2.pdf": PDF + b"% r2\n"}
    index = HEADER + (f"{first.id};factures/F1.pdf;releves/R1.pdf;\n"
                      f"#{second.id};factures/F2.pdf;releves/R2.pdf;\n")
    result = runner.invoke(args=["expenses", "documents", "import", "HL-RSA-2023", _zip(tmp_path, index, files)])
    assert result.exit_code == 0, result.output
    assert "4 pièce(s) jointe(s) à 2 dépense(s), dont 2 désormais complète(s)." in result.output
    db.session.expire_all()
    assert all(db.session.get(Expense, expense.id).is_complete for expense in (first, second))
    names = sorted(document.original_name for document in db.session.scalars(select(SupportingDocument)))
    assert names == ["F1.pdf", "F2.pdf", "R1.pdf", "R2.pdf"]


def test_every_bad_row_is_named_and_nothing_is_attached(app, runner, make_operation, tmp_path):
    """Row 2 is fine; row 3 names a file missing from the archive; row 4 a file whose content
    is HTML; row 5 an expense of another operation; row 6 names no file. The command lists
    all five problems by row and column and attaches nothing, not even row 2's files."""
    operation = make_operation("HL-RSA-2023")
    other = make_operation("LOT-2019-ACI")
    mine = make_expense(operation, "120.00", complete=False)
    foreign = make_expense(other, "10.00", complete=False)
    files = {"F1.pdf": PDF + b"% f1\n", "R1.pdf": PDF + b"% r1\n", "faux.pdf": b"<html>alert(1)</html>"}
    index = HEADER + (f"{mine.id};F1.pdf;R1.pdf;\n"
                      f"{mine.id};;absent.pdf;\n"
                      f"{mine.id};;;faux.pdf\n"
                      f"{foreign.id};;;\n"
                      f"{mine.id};;;\n")
    result = runner.invoke(args=["expenses", "documents", "import", "HL-RSA-2023", _zip(tmp_path, index, files)])
    assert result.exit_code == 1
    output = result.output
    assert "ligne 3, colonne Preuve de paiement : « absent.pdf » n'est pas dans l'archive" in output
    assert "ligne 4, colonne Autre pièce : " in output and "faux.pdf" in output
    assert f"ligne 5, colonne Dépense n° : aucune dépense n° {foreign.id} dans l'opération HL-RSA-2023" in output
    assert "ligne 6, colonne Dépense n° : aucune pièce indiquée" in output
    assert _documents() == 0
    db.session.expire_all()
    assert db.session.get(Expense, mine.id).is_complete is False


def test_an_archive_without_its_table_or_not_a_zip_is_refused(app, runner, make_operation, tmp_path):
    make_operation("HL-RSA-2023")
    no_index = _zip(tmp_path, HEADER, {"F1.pdf": PDF}, index_name="autre.csv")
    result = runner.invoke(args=["expenses", "documents", "import", "HL-RSA-2023", no_index])
    assert result.exit_code == 1 and "pieces.csv ou pieces.xlsx" in result.output
    not_zip = tmp_path / "pas-un-zip.zip"
    not_zip.write_bytes(b"bonjour")
    result = runner.invoke(args=["expenses", "documents", "import", "HL-RSA-2023", str(not_zip)])
    assert result.exit_code == 1 and "Archive ZIP illisible." in result.output
    assert _documents() == 0
