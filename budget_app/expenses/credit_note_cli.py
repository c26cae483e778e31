"""`flask expenses credit-note CODE LINE ...`: a credit note (avoir) on expense n° LINE by
command, through the service and the rules of the web form (``services.validate_expense``,
``rules.credit_note_terms``): the credit note takes the line's category, allocation key
and VAT treatment, its amounts are negative and never take the line below zero; a
look-alike line is refused unless ``--confirm-duplicates`` (the form's box)."""
import click

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money
from ..kernel.i18n import N_
from ..kernel.money import parse_amount, parse_day
from ..kernel.transactions import command_transaction
from ..operations.services import find_operation
from .models import Expense
from .rules import ExpenseData
from .services import create_expense, validate_expense


@click.command("credit-note")
@click.argument("code")
@click.argument("line", type=int)
@click.option("--amount", required=True, help="Montant HT de l'avoir, négatif, ex. -200,00.")
@click.option("--vat", default="0", help="TVA de l'avoir, négative ou nulle (défaut 0).")
@click.option("--date", "incurred_on", required=True, help="Date de l'avoir (JJ/MM/AAAA ou AAAA-MM-JJ).")
@click.option("--paid-on", "paid_on", required=True, help="Date du remboursement reçu (acquittement).")
@click.option("--number", "document_number", required=True, help="N° de pièce de l'avoir, ex. AV-2023-004.")
@click.option("--label", default=None, help="Libellé (défaut : « Avoir sur <n° de la facture> »).")
@click.option("--supplier", default=None, help="Fournisseur (défaut : celui de la dépense réduite).")
@click.option("--confirm-duplicates", "confirm", is_flag=True,
              help="Vérifié : ce n'est pas un doublon d'une ligne ressemblante, enregistrer quand même.")
@command_transaction
def credit_note_command(code, line, amount, vat, incurred_on, paid_on, document_number, label, supplier, confirm):
    """Enregistre un avoir sur la dépense n° LINE de l'opération CODE (son numéro sur sa page)."""
    operation = find_operation(code.strip())
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    original = db.session.get(Expense, line)
    if original is None or original.operation_id != operation.id or original.deleted_at is not None:
        raise DomainError(N_("Aucune dépense n° %(line)s dans l'opération %(code)s."), line=line, code=code)
    data = ExpenseData(
        incurred_on=parse_day(incurred_on), paid_on=parse_day(paid_on),
        supplier_name=(supplier or original.supplier_name).strip(), supplier_siret=original.supplier_siret,
        document_number=document_number.strip(),
        label=(label or f"Avoir sur {original.document_number}").strip(),
        amount_excl_vat=parse_amount(amount, allow_negative=True), vat=parse_amount(vat, allow_negative=True),
        credit_note_of_id=original.id,
    )
    problems, duplicates = validate_expense(operation, data)
    if problems:
        raise DomainError(problems=problems)
    look_alikes = duplicates.warnings + ([duplicates.already_recorded] if duplicates.already_recorded else [])
    if look_alikes and not confirm:
        raise DomainError(N_("Ligne ressemblante : %(reasons)s. Vérifiez, puis relancez avec --confirm-duplicates."),
                          reasons=" ; ".join(f"dépense n° {match.expense_id} ({match.reason})" for match in look_alikes))
    audit.note_for_changes(f"expenses credit-note {operation.code} {line}")
    expense = create_expense(operation, data, checked=True)
    db.session.flush()
    click.echo(f"Avoir n° {expense.id} enregistré sur la dépense n° {line} : {format_money(expense.amount_excl_vat)} HT, "
               f"éligible {format_money(expense.eligible_amount)} (pièces à joindre : expenses documents attach "
               f"{operation.code} {expense.id} --invoice … --proof …).")
