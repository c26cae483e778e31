"""`flask expenses documents attach CODE LINE --invoice FILE --proof FILE`: the page's
upload by command, same checks, all or nothing (issue 24)."""
from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.kernel.extensions import db

from .factories import PDF, make_expense


def test_attach_invoice_and_proof_completes_an_imported_expense(app, runner, make_operation, tmp_path):
    operation = make_operation("HL-RSA-2023")
    expense = make_expense(operation, "120.00", complete=False)
    invoice, proof = tmp_path / "facture.pdf", tmp_path / "releve.pdf"
    invoice.write_bytes(PDF + b"% facture\n")
    proof.write_bytes(PDF + b"% releve\n")
    result = runner.invoke(args=["expenses", "documents", "attach", "HL-RSA-2023", str(expense.id),
                                 "--invoice", str(invoice), "--proof", str(proof)])
    assert result.exit_code == 0, result.output
    assert f"Dépense n° {expense.id} : complète." in result.output
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).is_complete is True
    kinds = sorted(d.kind for d in db.session.query(SupportingDocument).all())
    assert kinds == ["invoice", "payment"]


def test_a_refused_file_writes_nothing(app, runner, make_operation, tmp_path):
    operation = make_operation("HL-RSA-2023")
    expense = make_expense(operation, "120.00", complete=False)
    invoice, fake = tmp_path / "facture.pdf", tmp_path / "preuve.pdf"
    invoice.write_bytes(PDF + b"% facture\n")
    fake.write_bytes(b"<html><script>alert(1)</script></html>")  # HTML named .pdf
    result = runner.invoke(args=["expenses", "documents", "attach", "HL-RSA-2023", str(expense.id),
                                 "--invoice", str(invoice), "--proof", str(fake)])
    assert result.exit_code == 1
    assert result.output.startswith("Erreur : preuve.pdf : ")
    db.session.expire_all()
    assert db.session.query(SupportingDocument).count() == 0


def test_unknown_line_or_operation_is_named(app, runner, make_operation, tmp_path):
    make_operation("HL-RSA-2023")
    other = make_operation("LOT-2019-ACI")
    expense = make_expense(other, "10.00", complete=False)
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(PDF)
    wrong = runner.invoke(args=["expenses", "documents", "attach", "HL-RSA-2023", str(expense.id), "--invoice", str(invoice)])
    assert wrong.exit_code == 1
    assert f"Erreur : Aucune dépense n° {expense.id} dans l'opération HL-RSA-2023." in wrong.output
    unknown = runner.invoke(args=["expenses", "documents", "attach", "NOPE", "1", "--invoice", str(invoice)])
    assert unknown.exit_code == 1 and "Opération inconnue : NOPE." in unknown.output
    nothing = runner.invoke(args=["expenses", "documents", "attach", "LOT-2019-ACI", str(expense.id)])
    assert nothing.exit_code == 1 and "--invoice, --proof ou --other" in nothing.output
