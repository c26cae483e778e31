"""Expense rules for bilans (primer §9): credit notes carry their line's terms and never
exceed what remains of it; participants' costs say whether they are pay and allowances
(RESTANTS_40 covers the rest, and in-kind contributions); the payment deadline."""
from datetime import date
from decimal import Decimal as D

from budget_app.expenses.imports import check_file
from budget_app.expenses.rules import ExpenseRules, expense_categories
from budget_app.expenses.services import create_expense, validate_expense
from budget_app.kernel.extensions import db
from tests.operations.factories import make_plan


def messages(problems):
    return " | ".join(problem.message for problem in problems)


def test_a_credit_note_takes_its_lines_key_and_vat_treatment(lot, expense_data):
    """Invoice 100,00 € HT + 20,00 € VAT (not recoverable), key 60 %: eligible 72,00 €.
    A credit note typed with key 100 % and recoverable VAT is recorded with the invoice's
    terms: (−50,00 − 10,00) × 60 % = −36,00 €."""
    invoice = create_expense(lot, expense_data(amount_excl_vat=D("100.00"), vat=D("20.00"),
                                               allocation_percent=D("60")))
    db.session.commit()
    assert invoice.eligible_amount == D("72.00")
    note = create_expense(lot, expense_data(document_number="AV-1", amount_excl_vat=D("-50.00"), vat=D("-10.00"),
                                            allocation_percent=D("100"), vat_recoverable=True,
                                            category="PRESTATIONS", credit_note_of_id=invoice.id))
    db.session.commit()
    assert (note.allocation_percent, note.vat_recoverable, note.category) == (D("60"), False, "FONCTIONNEMENT")
    assert note.eligible_amount == D("-36.00")


def test_a_credit_note_never_exceeds_what_remains_of_its_line(lot, expense_data):
    """A 100,00 € invoice: −1 500,00 € is refused; −60,00 € then −40,00 € are accepted
    (nothing left); one more cent is refused, naming the line and what remains."""
    invoice = create_expense(lot, expense_data(amount_excl_vat=D("100.00"), vat=D("0.00")))
    db.session.commit()
    problems, _ = validate_expense(lot, expense_data(document_number="AV-1", amount_excl_vat=D("-1500.00"),
                                                     vat=D("0.00"), credit_note_of_id=invoice.id))
    assert "dépasse ce qui reste de la dépense n°" in messages(problems)
    assert "100,00" in messages(problems)
    first = create_expense(lot, expense_data(document_number="AV-1", amount_excl_vat=D("-60.00"), vat=D("0.00"),
                                             credit_note_of_id=invoice.id))
    create_expense(lot, expense_data(document_number="AV-2", amount_excl_vat=D("-40.00"), vat=D("0.00"),
                                     credit_note_of_id=invoice.id))
    db.session.commit()
    problems, _ = validate_expense(lot, expense_data(document_number="AV-3", amount_excl_vat=D("-0.01"),
                                                     vat=D("0.00"), credit_note_of_id=invoice.id))
    assert "0,00" in messages(problems)
    # Changing one of them is checked against the others only.
    problems, _ = validate_expense(lot, expense_data(document_number="AV-1", amount_excl_vat=D("-60.00"),
                                                     vat=D("0.00"), credit_note_of_id=invoice.id), first)
    assert problems == []


def test_restants_40_covers_in_kind_and_participants_costs_except_their_pay(make_operation, expense_data):
    """CPR 56(2), primer §9: with RESTANTS_40, running costs, services and in-kind
    contributions are covered; participants' pay and allowances are declared on top, their
    other costs are covered."""
    operation = make_operation("OP-40", start_date=date(2019, 1, 1), end_date=date(2019, 12, 31))
    make_plan(operation, costs={("PERSONNEL", 2019): "1000", ("PARTICIPANTS", 2019): "500"},
              flat_rates={"RESTANTS_40": "40"})
    assert expense_categories(operation) == ["PARTICIPANTS"]
    pay = expense_data(category="PARTICIPANTS", subcategory="REMUNERATION")
    assert validate_expense(operation, pay)[0] == []
    problems, _ = validate_expense(operation, expense_data(category="PARTICIPANTS", subcategory="AUTRES"))
    assert "couvertes par ce taux" in messages(problems)
    problems, _ = validate_expense(operation, expense_data(category="PARTICIPANTS"))
    assert "précisez" in messages(problems)
    problems, _ = validate_expense(operation, expense_data(category="NATURE"))
    assert "couverte par un taux forfaitaire" in messages(problems)
    problems, _ = validate_expense(operation, expense_data(category="FONCTIONNEMENT", subcategory="AUTRES"))
    assert "couverte par un taux forfaitaire" in messages(problems)


def test_the_sub_category_is_imported(make_operation):
    operation = make_operation("OP-40", start_date=date(2019, 1, 1), end_date=date(2019, 12, 31))
    make_plan(operation, costs={("PERSONNEL", 2019): "1000", ("PARTICIPANTS", 2019): "500"},
              flat_rates={"RESTANTS_40": "40"})
    header = "Date;Date de paiement;Fournisseur;N° de pièce;Libellé;Catégorie;Sous-catégorie;Montant HT;TVA;TVA récupérable"
    content = "\n".join([
        header,
        "04/03/2019;15/03/2019;ASP;R-1;Rémunération des stagiaires;PARTICIPANTS;Rémunérations et indemnités des participants;800,00;0;non",
        "04/03/2019;15/03/2019;Transports du Lot;T-1;Transport des stagiaires;PARTICIPANTS;AUTRES;80,00;0;non",
        "04/03/2019;15/03/2019;Transports du Lot;T-2;Transport des stagiaires;PARTICIPANTS;bus;80,00;0;non",
    ]).encode()
    result = check_file(operation, content)
    assert sorted(str(problem) for problem in result.problems) == [
        "ligne 3, colonne Sous-catégorie : seules les rémunérations et indemnités des participants se déclarent "
        "en plus du taux forfaitaire des coûts restants (40 %, RPDC 56(2)) ; les autres dépenses liées aux participants sont "
        "couvertes par ce taux",
        "ligne 4, colonne Sous-catégorie : sous-catégorie inconnue « bus » (REMUNERATION ou AUTRES)",
    ]


def test_payment_date_up_to_the_deadline(lot, expense_data):
    """Primer §9: LOT ends 31/12/2019; paid by 30/06/2020 (end + 6 months): accepted;
    01/07/2020: refused, the message naming the deadline; a setting moves it."""
    assert validate_expense(lot, expense_data(incurred_on=date(2019, 12, 20), paid_on=date(2020, 1, 15)))[0] == []
    problems, _ = validate_expense(lot, expense_data(incurred_on=date(2019, 12, 20), paid_on=date(2020, 7, 1)))
    assert "30/06/2020" in messages(problems)
    lot.payment_deadline = date(2020, 9, 30)
    db.session.commit()
    assert ExpenseRules(lot).check(expense_data(incurred_on=date(2019, 12, 20), paid_on=date(2020, 7, 1))) == []
