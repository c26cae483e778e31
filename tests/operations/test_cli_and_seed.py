"""`flask seed` (idempotent, figures computed from the fixtures) and `flask operations load/show`."""
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from budget_app.accounts.assignments import codes_of
from budget_app.accounts.models import User
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.operations.models import Envelope, Operation
from budget_app.operations.plans import plan_figures
from budget_app.seed import load_seed_operations

D = Decimal
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# What the Haute-Loire action card states (shared/seeds/000_dabf70adaa4360d4.txt, primer §2).
DOCUMENT = {"total": D("833750"), "fse": D("500250"), "rate": D("60"), "indirect": D("108750"), "self": D("333500")}


def test_seed_figures_are_computed_and_match_the_seed_document(seeded):
    # The fixture only holds the source figures; the derived ones are computed.
    fixture = (FIXTURES / "hl-rsa-2023.toml").read_text(encoding="utf-8")
    assert "833750" not in fixture.replace(" ", "") and "108750" not in fixture.replace(" ", "")
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    figures = plan_figures(operation.current_plan)
    assert figures.total_cost == DOCUMENT["total"]
    assert figures.flat_rate_amounts == {"INDIRECTS_15": DOCUMENT["indirect"]}
    assert figures.fse_amount == DOCUMENT["fse"] and figures.fse_rate == DOCUMENT["rate"]
    assert figures.effective_rate == DOCUMENT["rate"]
    self_financing = [line["amount"] for line in figures.resources if line["kind"] == "self"]
    assert self_financing == [DOCUMENT["self"]] == [figures.total_cost - figures.fse_amount]
    assert not operation.is_demo


def test_lot_demo_figures(seeded):
    operation = db.session.scalar(select(Operation).filter_by(code="LOT-2019-ACI"))
    figures = plan_figures(operation.current_plan)
    assert figures.flat_rate_amounts == {"INDIRECTS_15": D("18000.00")}
    assert figures.total_cost == D("178000.00") and figures.fse_max == D("89000.00")
    assert operation.fse_amount * operation.advance_rate / 100 == D("26700")
    envelope = db.session.scalar(select(Envelope).filter_by(name="Subvention globale FSE 2018-2020"))
    assert envelope.is_demo and envelope.organisation.name == "Département du Lot"
    assert [o.code for o in envelope.operations] == ["LOT-2019-ACI"]
    assert operation.is_demo and operation.organisation.is_demo


def test_seed_is_idempotent(seeded):
    assert seeded.changed and seeded.demo_assignments == ["HL-RSA-2023", "LOT-2019-ACI"]
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    again = load_seed_operations()
    db.session.commit()
    assert not again.changed
    assert all("rien à faire" in line for line in again.messages)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_flask_seed_twice(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "Opération HL-RSA-2023 créée" in first.output
    officer = db.session.scalar(select(User).filter_by(role="finance_officer"))
    assert codes_of(officer.id) == ["HL-RSA-2023", "LOT-2019-ACI"]
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "Données de démonstration déjà chargées : rien à faire." in second.output


def test_seed_leaves_a_changed_operation_alone(seeded, tmp_path):
    changed = (FIXTURES / "hl-rsa-2023.toml").read_text(encoding="utf-8").replace("333500.00", "333500.01")
    (tmp_path / "hl.toml").write_text(changed, encoding="utf-8")
    result = load_seed_operations(tmp_path)
    assert not result.changed and "autre plan" in result.messages[0]


def test_show_json(seeded, runner):
    result = runner.invoke(args=["operations", "show", "HL-RSA-2023", "--json"])
    assert result.exit_code == 0
    assert '"total_cost": "833750.00"' in result.output
    data = json.loads(result.output)
    assert data["code"] == "HL-RSA-2023"
    assert data["fse_rate"] == "60.00" and data["fse_amount"] == "500250.00"
    assert data["costs"] == {"PERSONNEL": "725000.00"}
    assert data["flat_rates"] == {"INDIRECTS_15": "108750.00"}
    assert data["resources"] == [
        {"name": "FSE+", "kind": "fse", "amount": "500250.00"},
        {"name": "Autofinancement du Département de la Haute-Loire", "kind": "self", "amount": "333500.00"},
    ]


def test_show_text_and_unknown_code(seeded, runner):
    result = runner.invoke(args=["operations", "show", "LOT-2019-ACI"])
    assert result.exit_code == 0 and "178" in result.output and "INDIRECTS_15" in result.output
    result = runner.invoke(args=["operations", "show", "NOPE"])
    assert result.exit_code == 1 and "Erreur" in result.output


def test_load_bad_file_exits_1_naming_the_field(app, runner, tmp_path):
    bad = (FIXTURES / "hl-rsa-2023.toml").read_text(encoding="utf-8").replace(
        "year = 2024\namount = 362500.00", 'year = 2024\namount = "abc"')
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["operations", "load", str(path)])
    assert result.exit_code == 1
    assert "Erreur : plan.costs[2].amount : montant invalide" in result.output
    assert db.session.scalar(select(func.count()).select_from(Operation)) == 0


def test_load_then_amend_from_the_cli(app, runner, tmp_path):
    text = (FIXTURES / "hl-rsa-2023.toml").read_text(encoding="utf-8")
    path = tmp_path / "hl.toml"
    path.write_text(text, encoding="utf-8")
    assert runner.invoke(args=["operations", "load", str(path)]).exit_code == 0
    amended = text.replace("code = \"INDIRECTS_15\"\nrate = 15", "code = \"INDIRECTS_15\"\nrate = 15\n") \
        .replace("[[plan.costs]]", "[plan]\namendment_number = \"A1\"\nsigned_on = 2024-01-15\n\n[[plan.costs]]", 1) \
        .replace("name = \"Autofinancement du Département de la Haute-Loire\"", "name = \"Autofinancement\"")
    path.write_text(amended, encoding="utf-8")
    result = runner.invoke(args=["operations", "load", str(path), "--amendment", "Renommage du financeur"])
    assert result.exit_code == 0, result.output
    assert "plan version 2" in result.output
    result = runner.invoke(args=["operations", "load", str(path), "--amendment", "encore"])
    assert "rien à faire" in result.output


def test_bad_operation_values_are_refused_by_the_database_on_postgresql(seeded):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import ON_POSTGRES

    if not ON_POSTGRES:  # SQLite keeps these checks to the service (migration 0004)
        from budget_app.operations.rules import check_operation
        from budget_app.operations.services import operation_input_of

        operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
        for column, value in (("fse_rate", D("150")), ("status", "lost"), ("hours_divisor", 1600)):
            assert check_operation(operation_input_of(operation, **{column: value}))
        return
    for column, value in (("fse_rate", D("150")), ("status", "lost"), ("hours_divisor", 1600)):
        operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
        setattr(operation, column, value)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_database_accepts_real_flat_rates_on_both_databases(seeded):
    from budget_app.operations.models import PlanFlatRate

    rates = db.session.scalars(select(PlanFlatRate.rate)).all()
    assert rates == [D("15.0000"), D("15.0000")]
