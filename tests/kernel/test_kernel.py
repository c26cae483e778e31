"""The kernel's shared pieces: one SIRET rule, formatting in the reader's language, the
errors' shape, hooks, state machines and the import staging."""
from datetime import date
from decimal import Decimal

import pytest

from budget_app.kernel.errors import Conflict, DomainError, Problem
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import decimal_text, format_hours, format_money, format_month, format_percent
from budget_app.kernel.hooks import Hook
from budget_app.kernel.i18n import N_
from budget_app.kernel.siret import normalise_siret, siret_is_valid
from budget_app.kernel.transitions import StateMachine, Transition
from budget_app.staff.computations import hourly_amount, hourly_text


@pytest.mark.parametrize("typed, valid", [
    ("356 000 000 00048", True),  # La Poste's head office: Luhn key
    ("356-000-000-00048", True),
    ("35600000000048", True),
    ("35600000000015", True),  # a La Poste establishment: no Luhn key, digit sum a multiple of 5
    ("35600000000016", False),
    ("99904600000017", True),
    ("99904600000018", False),
    ("9990460000001A", False),
])
def test_one_siret_rule_for_beneficiaries_and_suppliers(typed, valid):
    assert siret_is_valid(normalise_siret(typed)) is valid


def test_amounts_hours_and_percents_in_the_reader_language():
    assert format_money(Decimal("4400"), "fr", plain=True) == "4 400,00 €"
    assert format_money(Decimal("4400"), "en") == "€4,400.00"
    assert format_money(Decimal("-0.00"), "fr", plain=True) == "0,00 €"
    assert format_hours(Decimal("137.50"), "fr") == "137,5 h"
    assert format_hours(Decimal("1720"), "en") == "1,720 h"
    assert format_percent(Decimal("60.0000"), "fr", places=None, plain=True) == "60 %"
    assert format_month(date(2023, 1, 1), "fr") == "01/2023" and format_month(date(2023, 1, 1), "en") == "2023-01"
    assert decimal_text(Decimal("1234.5"), places=2) == "1234,50" and decimal_text(Decimal("33.3300")) == "33,33"


def test_staff_computation_is_stored_in_french_and_shown_in_english():
    amount, stored = hourly_amount(Decimal("137.5"), Decimal("32.00"))
    assert (amount, stored) == (Decimal("4400.00"), "137,5 h × 32,00 €/h = 4 400,00 €")
    assert hourly_text(Decimal("137.5"), Decimal("32.00"), amount, "en") == "137.5 h × €32.00/h = €4,400.00"


def test_domain_error_is_translated_when_shown(app):
    error = DomainError(N_("Indiquez le motif."), field="reason")
    assert str(error) == "Indiquez le motif." and error.field == "reason"
    gathered = DomainError(problems=[Problem(DomainError(N_("valeur obligatoire")), line=3, column="Libellé")])
    assert gathered.lines() == ["ligne 3, colonne Libellé : valeur obligatoire"]
    assert issubclass(Conflict, DomainError) and Conflict.status == 409


def test_a_hook_answers_with_its_closed_answer_until_registered():
    hook = Hook("test.hook", closed=lambda value: None)
    assert hook(1) is None
    hook.register(lambda value: value * 2)
    assert hook(21) == 42


def test_state_machine_refuses_undeclared_moves_and_concurrent_ones(app, make_operation):
    from budget_app.claims.lifecycle import CLAIMS
    from budget_app.claims.models import Claim

    operation = make_operation()
    claim = Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31))
    db.session.add(claim)
    db.session.commit()
    with pytest.raises(DomainError, match="ne peut pas passer"):
        CLAIMS.by_target("draft", "paid")
    stale = db.session.get(Claim, claim.id)
    # Another request moved it first (the ORM object still reads "draft").
    db.session.execute(db.update(Claim).where(Claim.id == claim.id).values(state="submitted")
                       .execution_options(synchronize_session=False))
    with pytest.raises(Conflict):
        CLAIMS.move(stale, CLAIMS.by_action("draft", "submit"))
    generic = StateMachine({"a": "A", "b": "B"}, [Transition("go", ("a",), "b", reason_required=True)])
    with pytest.raises(DomainError, match="motif"):
        generic.move(claim, generic.transitions[0])


def test_staging_gives_the_file_back_once_to_the_same_session_and_scope(app, tmp_path):
    from budget_app.kernel import staging, storage

    with app.test_request_context("/"):
        token = staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "import.csv")
        path = storage.store().path(f"imports/{token}")  # the local storage: a file 0600
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert staging.take("expenses", "OP-2", token) is None  # another operation: refused
    with app.test_request_context("/"):
        token = staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "import.csv")
        storage.put(b"changed", f"imports/{token}")  # not the bytes that were previewed
        assert staging.take("expenses", "OP-1", token) is None
    with app.test_request_context("/"):
        token = staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "import.csv")
        staged = staging.take("expenses", "OP-1", token)
        assert staged.content == b"a;b\n1;2\n" and staged.filename == "import.csv"
        assert not storage.exists(f"imports/{token}")
        assert staging.take("expenses", "OP-1", token) is None  # once only


def test_file_sizes_carry_their_unit_in_the_reader_language():
    from budget_app.kernel.formatting import format_size

    assert format_size(633, "fr") == "633\u00a0o" and format_size(633, "en") == "633\u00a0B"
    assert format_size(1300, "fr") == "1,3\u00a0Ko" and format_size(1300, "en") == "1.3\u00a0KB"
    assert format_size(5 * 1024 * 1024, "fr") == "5,0\u00a0Mo"


def test_dashboard_chart_rows_are_labels_not_codes(app):
    from budget_app.reporting.charts import short_label

    with app.test_request_context():
        assert [short_label(code) for code in ("PERSONNEL", "FONCTIONNEMENT", "INDIRECTS_15")] == [
            "Personnel", "Fonctionnement", "Coûts indirects (15 %)"]


def test_id_urls_are_url_for_of_each_id(app):
    """One url_for for a page's links: each id in the place of the sentinel, the URL that
    url_for builds (the operation's code from the request); anything not an id goes
    through url_for itself (Werkzeug refuses it as it would)."""
    from flask import g, url_for

    from budget_app.kernel.urls import id_urls
    from budget_app.operations.models import Operation

    with app.test_request_context("/operations/HL-7/depenses"):
        g.operation = Operation(code="HL-7")
        detail = id_urls("expenses.detail", "expense_id")
        for expense_id in (1, 12, 2147483646, 2147483647):
            assert detail(expense_id) == url_for("expenses.detail", expense_id=expense_id)
        assert detail(12) == "/operations/HL-7/depenses/12"
        for refused in (url_for, lambda endpoint, **values: detail(values["expense_id"])):
            with pytest.raises(ValueError):
                refused("expenses.detail", expense_id="12/../../admin")
