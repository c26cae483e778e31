"""The operation file (TOML): created, amended, unchanged, and every bad field named."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.operations.loader import load_operation, parse_operation_file
from budget_app.operations.models import Envelope, Operation, Organisation, PlanVersion
from budget_app.operations.plans import plan_figures

D = Decimal


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Operation, PlanVersion, Organisation, Envelope))


def errors_of(text, **kwargs):
    with pytest.raises(DomainError) as caught:
        load_operation(text, **kwargs)
    db.session.rollback()
    return caught.value.lines()


def test_seed_file_creates_the_operation_with_computed_figures(app, seed_text):
    result = load_operation(seed_text)
    db.session.commit()
    assert result.action == "created" and result.version == 1
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    figures = plan_figures(operation.current_plan)
    assert figures.total_cost == D("833750.00")
    assert figures.flat_rate_amounts["INDIRECTS_15"] == D("108750.00")
    assert operation.organisation.kind == "collectivite" and operation.advance_rate == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "load")) == 1


def test_loading_the_same_file_again_changes_nothing(app, seed_text):
    load_operation(seed_text)
    db.session.commit()
    before = counts()
    result = load_operation(seed_text)
    assert result.action == "unchanged"
    assert "rien à faire" in result.messages[0]
    assert counts() == before


def test_a_different_plan_needs_an_amendment(app, seed_text):
    load_operation(seed_text)
    db.session.commit()
    changed = seed_text.replace("amount = 333500.00", "amount = 333500.01")
    lines = errors_of(changed)
    assert lines[0].startswith("operation.code : ") and "--amendment" in lines[0]


def test_amendment_adds_a_version_and_keeps_the_first(app, seed_text):
    load_operation(seed_text)
    db.session.commit()
    amended = (
        seed_text.replace("year = 2024\namount = 362500.00", "year = 2024\namount = 300000.00")
        .replace("amount = 500250.00", "amount = 457125.00")
        .replace("fse_amount = 500250.00", "fse_amount = 457125.00")
        .replace("amount = 333500.00", "amount = 304750.00")
        .replace("[[plan.costs]]", "[plan]\namendment_number = \"1\"\nsigned_on = 2024-03-01\n\n[[plan.costs]]", 1)
    )
    result = load_operation(amended, amendment="Départ non remplacé d'un conseiller")
    db.session.commit()
    assert result.action == "amended" and result.version == 2
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    first, second = operation.plan_versions
    assert plan_figures(first).total_cost == D("833750.00")  # never rewritten
    assert plan_figures(second).total_cost == D("761875.00")  # 662 500 x 1.15
    assert second.reason == "Départ non remplacé d'un conseiller" and second.amendment_number == "1"
    assert operation.fse_amount == D("457125.00")
    notes = db.session.scalars(select(AuditEntry.note).where(AuditEntry.object_type == "plan_versions",
                                                            AuditEntry.action == "create")).all()
    assert any(note and "Avenant n° 1" in note for note in notes)


def test_amendment_needs_a_number_and_date(app, seed_text):
    load_operation(seed_text)
    db.session.commit()
    lines = errors_of(seed_text.replace("amount = 333500.00", "amount = 333500.01"), amendment="motif")
    assert any(line.startswith("plan.amendment_number : ") for line in lines)
    assert any(line.startswith("plan.signed_on : ") for line in lines)


def test_bad_amount_names_the_field_and_nothing_is_written(app, seed_text):
    before = counts()
    bad = seed_text.replace("year = 2024\namount = 362500.00", 'year = 2024\namount = "36x2500"')
    lines = errors_of(bad)
    assert lines[0].startswith("plan.costs[2].amount : montant invalide")
    assert counts() == before


@pytest.mark.parametrize("old, new, expected", [
    ("code = \"INDIRECTS_15\"\nrate = 15", "code = \"INDIRECTS_15\"\nrate = 16", "plan.flat_rates[1].rate : "),
    ("end_date = 2024-12-31", "end_date = 2022-12-31", "operation.end_date : "),
    ("start_date = 2023-01-01", "start_date = \"31/02/2023\"", "operation.start_date : "),
    ("fse_rate = 60", "fse_rate = 50", "operation.fse_amount : "),
    ("kind = \"self\"", "kind = \"autre\"", "plan.resources[2].kind : "),
    ("hours_divisor = 1720", "hours_divisor = 1600", "operation.hours_divisor : "),
    ("status = \"running\"", "status = \"running\"\ncolour = \"blue\"", "operation.colour : champ inconnu"),
    ("category = \"PERSONNEL\"\nyear = 2023", "category = \"PERSONNEL\"\nyear = \"2023\"", "plan.costs[1].year : "),
    ("amount = 333500.00", "amount = -333500.00", "plan.resources[2].amount : "),
    ("title = ", "#title = ", "operation.title : champ obligatoire"),
])
def test_each_bad_field_is_named(app, seed_text, old, new, expected):
    assert old in seed_text
    lines = errors_of(seed_text.replace(old, new, 1))
    assert any(line.startswith(expected) for line in lines), lines


def test_unreadable_toml_is_an_error(app):
    lines = errors_of("[operation\ncode = 1")
    assert "TOML" in lines[0]


def test_amounts_are_never_floats(app, seed_text):
    parsed = parse_operation_file(seed_text)
    assert all(isinstance(line.amount, Decimal) for line in parsed.plan.costs + parsed.plan.resources)
    assert isinstance(parsed.operation.fse_rate, Decimal)


def test_lot_file_creates_envelope_and_demo_data(app, lot_text):
    load_operation(lot_text)
    db.session.commit()
    operation = db.session.scalar(select(Operation).filter_by(code="LOT-2019-ACI"))
    assert operation.is_demo and operation.envelope.is_demo and operation.organisation.is_demo
    assert operation.envelope.fse_amount == D("1900000.00")
    assert plan_figures(operation.current_plan).total_cost == D("178000.00")
    assert operation.organisation.siret == "99904600000017"


def test_envelope_cannot_be_exceeded(app, lot_text):
    load_operation(lot_text)
    db.session.commit()
    before = counts()
    second = (lot_text.replace('code = "LOT-2019-ACI"', 'code = "LOT-2020-BIG"')
              .replace("fse_amount = 89000.00", "fse_amount = 1811000.01")
              .replace("fse_rate = 50", "fse_rate = 100"))
    second = second.replace("amount = 120000.00", "amount = 1573913.05")
    lines = errors_of(second)
    assert any(line.startswith("operation.envelope : ") and "LOT-SG-2018-2020" in line for line in lines), lines
    assert counts() == before


def test_bad_siret_is_refused(app, lot_text):
    lines = errors_of(lot_text.replace("99904600000017", "99904600000018"))
    assert any(line.startswith("organisation.siret : ") for line in lines)


def test_toml_numbers_with_trailing_zeros_are_exact_but_three_decimals_are_refused(app, seed_text):
    parsed = parse_operation_file(seed_text.replace("amount = 333500.00", "amount = 333500.000"))
    assert parsed.plan.resources[1].amount == D("333500.00")
    lines = errors_of(seed_text.replace("amount = 333500.00", "amount = 333500.001"))
    assert lines == ["plan.resources[2].amount : montant invalide (plus de deux décimales)"]
