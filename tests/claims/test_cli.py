"""The monthly routine from the command line."""
from decimal import Decimal as D

from openpyxl import load_workbook

from budget_app.claims.models import Advance
from budget_app.kernel.extensions import db
from budget_app.operations.models import Organisation
from tests.staff.factories import make_staff_line


def test_export_month_writes_the_workbook(runner, claims_world, tmp_path):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    target = tmp_path / "janvier.xlsx"
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2023-01", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "8\u202f372,00\u00a0€" in result.output
    sheet = load_workbook(target)["Récapitulatif"]
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["Total des dépenses éligibles"] == 8372
    assert values["FSE+ demandé"] == 5023.2
    csv_target = tmp_path / "janvier.csv"
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--from", "2023-01-01", "--to", "2023-01-31",
                                 "--format", "csv", "-o", str(csv_target)])
    assert result.exit_code == 0, result.output
    assert csv_target.read_bytes().startswith("\ufeff".encode())


def test_export_errors_exit_1(runner, claims_world, tmp_path):
    target = tmp_path / "x.xlsx"
    result = runner.invoke(args=["statements", "export", "NOPE", "--month", "2023-01", "-o", str(target)])
    assert result.exit_code == 1 and "Opération inconnue" in result.output
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2030-01", "-o", str(target)])
    assert result.exit_code == 1 and "période d'éligibilité" in result.output
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2023-13", "-o", str(target)])
    assert result.exit_code == 1 and "mois valide" in result.output
    assert not target.exists()


def test_export_all_and_advance(runner, claims_world, make_operation, tmp_path):
    partner = Organisation(name="Association de test", kind="association")
    make_operation("LOT-2019-ACI", status="running", organisation=partner, advance_rate=D("30"))
    make_operation("OLD", status="closed")
    result = runner.invoke(args=["statements", "export-all", "--month", "2023-01", "--dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["HL-RSA-2023-2023-01.xlsx",
                                                                     "LOT-2019-ACI-2023-01.xlsx"]
    result = runner.invoke(args=["advances", "record", "LOT-2019-ACI", "--date", "05/01/2023", "--amount",
                                 "150 075,00"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(Advance.amount)) == D("150075.00")


def test_an_export_that_cannot_be_written_leaves_no_part_file(runner, claims_world, tmp_path, monkeypatch, caplog):
    """Whatever breaks while a file is written, the user reads `Erreur : …` (exit 1), no
    traceback; neither the file nor its `.part` is left; the log names the failure's kind, never
    a cell's text."""
    from budget_app.claims import exports

    def broken(report, target):
        raise ValueError("texte confidentiel d'une cellule")

    monkeypatch.setattr(exports, "write_xlsx", broken)
    out = tmp_path / "sortie"
    out.mkdir()
    target = out / "etat.xlsx"
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2023-01", "-o", str(target)])
    assert result.exit_code == 1
    assert "Erreur : le fichier etat.xlsx n'a pas pu être écrit (ValueError)" in result.output
    assert list(out.iterdir()) == []
    assert "confidentiel" not in caplog.text and "ValueError" in caplog.text


# Every older `claims …` spelling and the command it now is: scripts and cron lines still work.
ALIASES = [
    (["claims", "export"], ["statements", "export"]),
    (["claims", "export-all"], ["statements", "export-all"]),
    (["claims", "pack"], ["bilans", "pack"]),
    (["claims", "hold"], ["bilans", "hold"]),
    (["claims", "release"], ["bilans", "release"]),
    (["claims", "advance"], ["advances", "record"]),
]


def test_each_older_claims_name_is_the_same_command_as_its_new_name(app):
    """One command, one rule: the alias is the new command object itself, not a copy."""
    for old, new in ALIASES:
        old_command = app.cli.get_command(None, old[0]).get_command(None, old[1])
        new_command = app.cli.get_command(None, new[0]).get_command(None, new[1])
        assert old_command is new_command, (old, new)


def test_both_spellings_of_the_monthly_export_write_the_same_statement(runner, claims_world, tmp_path):
    """The cron line `flask claims export-all …` and `flask statements export-all …` (and
    `claims export` / `statements export`) write the same files with the same figures:
    staff 2 880,00 + indirect costs 15 % × 2 880,00 = 432,00 → total 3 312,00 €."""
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    outputs = []
    for group in ("claims", "statements"):
        directory = tmp_path / group
        result = runner.invoke(args=[group, "export-all", "--month", "2023-01", "--dir", str(directory)])
        assert result.exit_code == 0, result.output
        assert "total 3\u202f312,00\u00a0€" in result.output
        single = tmp_path / f"{group}.csv"
        result = runner.invoke(args=[group, "export", "HL-RSA-2023", "--month", "2023-01", "--format", "csv",
                                     "-o", str(single)])
        assert result.exit_code == 0, result.output
        outputs.append(([p.name for p in sorted(directory.iterdir())], single.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == ["HL-RSA-2023-2023-01.xlsx"]


def test_both_spellings_of_an_advance_record_it(runner, claims_world, make_operation):
    """`claims advance` (older) and `advances record` record an advance the same way: 10,00 + 20,00 = 30,00 €."""
    partner = Organisation(name="Association de test", kind="association")
    make_operation("LOT-2019-ACI", status="running", organisation=partner, advance_rate=D("30"))
    for group, command, amount in (("claims", "advance", "10,00"), ("advances", "record", "20,00")):
        result = runner.invoke(args=[group, command, "LOT-2019-ACI", "--date", "05/01/2023", "--amount", amount])
        assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(db.func.sum(Advance.amount))) == D("30.00")


def test_help_says_bilans_and_statements(runner):
    """What a person reads: the groups are named for bilans and états récapitulatifs; the
    older group says what it is an alias of."""
    listing = runner.invoke(args=["--help"]).output
    assert "bilans" in listing and "statements" in listing
    older = runner.invoke(args=["claims", "--help"]).output
    assert "Ancien nom" in older and "statements" in older and "bilans" in older
