"""Fixtures of the expenses tests: an operation shaped like LOT-2019-ACI (2019, running
costs and external services in the plan, staff costs too) and a finance officer on it."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.operations.factories import make_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"

# The smallest valid files of each accepted type, recognised by content.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture
def officer(make_user):
    return make_user("finance_officer", email="gestionnaire@example.org")


@pytest.fixture
def lot(make_operation, officer):
    operation = make_operation(
        "LOT-2019-ACI",
        title="Atelier et chantier d'insertion",
        members=[officer],
        start_date=date(2019, 1, 1),
        end_date=date(2019, 12, 31),
        fse_rate=Decimal("50"),
        fse_amount=Decimal("60000.00"),
    )
    make_plan(
        operation,
        costs={("PERSONNEL", 2019): "90000", ("FONCTIONNEMENT", 2019): "20000", ("PRESTATIONS", 2019): "10000"},
        flat_rates={"INDIRECTS_15": "15"},
    )
    return operation


@pytest.fixture
def expense_data():
    from budget_app.expenses.rules import ExpenseData

    def make(**overrides):
        values = dict(
            incurred_on=date(2019, 3, 4),
            paid_on=date(2019, 3, 15),
            supplier_name="Bureau Vallée Cahors",
            supplier_siret=None,
            document_number="FA-2019-0311",
            label="Fournitures de bureau",
            category="FONCTIONNEMENT",
            amount_excl_vat=Decimal("245.80"),
            vat=Decimal("49.16"),
            vat_recoverable=False,
            allocation_percent=Decimal("100"),
        )
        values.update(overrides)
        return ExpenseData(**values)

    return make


def form_values(**overrides):
    values = {
        "incurred_on": "2019-03-04",
        "paid_on": "2019-03-15",
        "supplier_name": "Bureau Vallée Cahors",
        "supplier_siret": "",
        "document_number": "FA-2019-0311",
        "label": "Fournitures de bureau",
        "category": "FONCTIONNEMENT",
        "amount_excl_vat": "245,80",
        "vat": "49,16",
        "allocation_percent": "100",
    }
    values.update(overrides)
    return values
