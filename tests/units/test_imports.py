"""Import of unit records (``units.imports``): the command (``flask units import``, with
``--dry-run``) and the units page (preview, then confirmation), all or nothing, every
problem named by row and column, numbers and days typed as the reader's pages print them.

The world (``conftest``): plan line « heure d'atelier collectif » at 37,50 € the hour and
the lump sum « diagnostic territorial remis » of 5 000,00 €."""
import io
from datetime import date
from decimal import Decimal as D

from sqlalchemy import func, select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.operations.unit_lines import SIMPLIFIED
from budget_app.reporting.kept_models import PendingFigureState
from budget_app.units import services
from budget_app.units.models import UnitRecord
from tests.reporting.test_kept_figures import assert_kept_right

from .conftest import PDF, lump_sum, unit_line

HEADER = "Ligne du plan;Date de réalisation;Début de la période;Unités réalisées;Livrable réalisé;Commentaire\n"


def _count():
    return db.session.scalar(select(func.count()).select_from(UnitRecord))


def _imports():
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import",
                                                       AuditEntry.object_type == "unit_records")).all()


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _generation(operation):
    return db.session.scalar(select(PendingFigureState.generation).where(
        PendingFigureState.operation_id == operation.id))


def _lines(operation):
    return unit_line(operation), lump_sum(operation)


def test_cli_dry_run_then_import_then_the_same_file_again(runner, units_world, tmp_path):
    """Row 2: 12,5 h × 37,50 = 468,75 €; row 3 (by its label, « 1 234,5 » typed as the French
    page prints it): 1 234,5 × 37,50 = 46 293,75 €; row 4: deliverable achieved, 5 000,00 €;
    row 5: not achieved, 0,00 €. Together 51 762,50 €. The dry run writes nothing; the import
    writes the four records (no evidence yet) and one audit entry for the file; the same
    file again records nothing (each row already recorded)."""
    operation = units_world["operation"]
    hours, deliverable = _lines(operation)
    path = tmp_path / "releves.csv"
    path.write_text(HEADER + f"{hours.id};31/01/2023;;12,5;;Ateliers de janvier\n"
                    "heure d'atelier collectif;28/02/2023;01/02/2023;1 234,5;;\n"
                    f"n° {deliverable.id};15/03/2023;;;oui;Diagnostic remis\n"
                    f"#{deliverable.id};15/03/2023;;;non;Second diagnostic\n", encoding="utf-8")
    dry = runner.invoke(args=["units", "import", operation.code, str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    output = _plain(dry.output)
    assert "ligne 2 : ligne" in output and "12,5 × 37,50 € = 468,75 €" in output
    assert "1 234,5 × 37,50 € = 46 293,75 €" in output and "heure d'atelier collectif" in output
    assert "livrable réalisé = 5 000,00 €" in output and "livrable non réalisé = 0,00 €" in output
    assert "rien n'a été écrit : 4 relevé(s) à importer, 51 762,50 € ; 0 déjà enregistré(s) ignoré(s)." in output
    assert _count() == 0 and not _imports()

    done = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert done.exit_code == 0, done.output
    assert "Importé : 4 relevé(s), 51 762,50 €" in _plain(done.output)
    records = db.session.scalars(select(UnitRecord).order_by(UnitRecord.id)).all()
    assert [(r.quantity, r.achieved, r.amount, r.category, r.is_complete) for r in records] == [
        (D("12.50"), None, D("468.75"), SIMPLIFIED, False), (D("1234.50"), None, D("46293.75"), SIMPLIFIED, False),
        (None, True, D("5000.00"), SIMPLIFIED, False), (None, False, D("0.00"), SIMPLIFIED, False)]
    assert records[1].period_start == date(2023, 2, 1) and records[1].description == "heure d'atelier collectif"
    (entry,) = _imports()
    assert entry.after["file"] == "releves.csv" and entry.after["imported"] == 4 and entry.after["amount"] == "51762.50"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "unit_records", AuditEntry.action != "import")) >= 4

    again = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert again.exit_code == 0, again.output
    assert f"ligne 2 : déjà enregistré (relevé n° {records[0].id}), ignoré" in again.output
    assert "Importé : 0 relevé(s)" in again.output and "4 déjà enregistré(s) ignoré(s)" in again.output
    assert _count() == 4


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(runner, units_world, tmp_path):
    """Seven rows, six wrong (one right, not written either): an unknown line, a date outside
    the realisation period (2023-2024), a number typed the English way on the French command,
    units given to a lump sum, a lump sum without its answer, no units for a unit cost."""
    operation = units_world["operation"]
    hours, deliverable = _lines(operation)
    path = tmp_path / "releves.csv"
    path.write_text(HEADER + f"{hours.id};31/01/2023;;3;;bon\n"
                    "999999;31/01/2023;;3;;\n"
                    f"{hours.id};31/01/2026;;3;;\n"
                    f"{hours.id};31/01/2023;;1,234.5;;\n"
                    f"{deliverable.id};31/01/2023;;2;oui;\n"
                    f"{deliverable.id};31/01/2023;;;;\n"
                    f"{hours.id};31/01/2023;;;;\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert result.exit_code == 1
    output = _plain(result.output)
    assert "Erreur : fichier refusé, rien n'a été importé (6 problème(s))." in output
    assert "ligne 3, colonne Ligne du plan : aucune ligne n° 999999 au plan" in output
    assert "ligne 4, colonne Date de réalisation : la date doit être dans la période de réalisation" in output
    assert "ligne 5, colonne Unités réalisées : « 1,234.5 » est ambigu sur une page en français" in output
    assert "ligne 6, colonne Unités réalisées : un montant forfaitaire n'a pas d'unités" in output
    assert "ligne 7, colonne Livrable réalisé : indiquez si le livrable est réalisé" in output
    assert "ligne 8, colonne Unités réalisées : indiquez le nombre d'unités réalisées" in output
    assert _count() == 0 and not _imports()


def test_english_numbers_and_days_with_the_english_language(runner, units_world, tmp_path):
    """« 1,234.5 » and « 2023-01-31 » read in English: 1 234,5 × 37,50 = 46 293,75 €;
    « 15/03/2023 » is not an English day (the English pages print ISO days)."""
    operation = units_world["operation"]
    hours, _deliverable = _lines(operation)
    path = tmp_path / "units.csv"
    path.write_text(HEADER.replace(";", ",") + f'{hours.id},2023-01-31,,"1,234.5",,Workshops\n', encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path), "--language", "en"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(UnitRecord.amount)) == D("46293.75")
    path.write_text(HEADER.replace(";", ",") + f"{hours.id},15/03/2023,,3,,Workshops\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path), "--language", "en"])
    assert result.exit_code == 1 and "ligne 2, colonne Date de réalisation" in result.output
    assert _count() == 1


def test_xlsx_with_the_spreadsheet_s_own_numbers_and_dates(runner, units_world, tmp_path):
    """A workbook's numbers and dates are read as they are: 12.5 → 468,75 €; « oui » → 5 000,00 €."""
    from openpyxl import Workbook

    operation = units_world["operation"]
    hours, deliverable = _lines(operation)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(";"))
    sheet.append([hours.id, date(2023, 1, 31), None, 12.5, None, "Ateliers"])
    sheet.append([deliverable.id, date(2023, 3, 15), None, None, "oui", None])
    path = tmp_path / "releves.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert result.exit_code == 0, result.output
    assert sorted(db.session.scalars(select(UnitRecord.amount))) == [D("468.75"), D("5000.00")]


def test_participants_counted_by_the_import_once(runner, worked_example, tmp_path):
    """Participants §7: 4 completed paths between 01/09 and 31/12/2023 × 400,00 = 1 600,00 €.
    Two rows over the same months: the second finds nobody left (row 3 named), nothing written;
    the first alone imports; a typed quantity is refused (the count is never typed)."""
    from tests.operations.factories import make_plan

    operation = worked_example
    make_plan(operation, costs={("PERSONNEL", 2023): "1000.00"}, flat_rates={})
    line = unit_line(operation, rate="400.00", planned="20", category="PARTICIPANTS", label="",
                     counted_from_participants=True)
    path = tmp_path / "sorties.csv"
    row = f"{line.id};31/12/2023;01/09/2023;;;\n"
    path.write_text(HEADER + row + row, encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert result.exit_code == 1 and "ligne 3, colonne Début de la période : aucun participant" in result.output
    path.write_text(HEADER + f"{line.id};31/12/2023;01/09/2023;4;;\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert result.exit_code == 1 and "ligne 2, colonne Unités réalisées : laissez vide" in result.output
    assert _count() == 0
    path.write_text(HEADER + row, encoding="utf-8")
    result = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert result.exit_code == 0, result.output
    record = db.session.scalar(select(UnitRecord))
    assert (record.quantity, record.amount, len(record.participant_codes.split())) == (D("4"), D("1600.00"), 4)
    again = runner.invoke(args=["units", "import", operation.code, str(path)])
    assert again.exit_code == 0 and "déjà enregistré" in again.output and _count() == 1


def test_page_preview_then_confirm_and_the_kept_figures_follow(client, login, units_world):
    """The page checks the file, shows the two records (468,75 + 5 000,00 = 5 468,75 €), keeps
    it until confirmed; confirmed, the records are written and the operation's kept figures
    are stale (computed again at the next read); they count a record once its evidence is
    attached."""
    operation = units_world["operation"]
    hours, deliverable = _lines(operation)
    assert_kept_right([operation])
    before = _generation(operation)
    login(client, units_world["officer"])
    assert 'data-testid="import-records"' in client.get(f"/operations/{operation.code}/unites").get_data(as_text=True)
    content = (HEADER + f"{hours.id};31/01/2023;;12,5;;Ateliers\n{deliverable.id};15/03/2023;;;oui;\n").encode()
    page = client.post(f"/operations/{operation.code}/unites/import",
                       data={"file": (io.BytesIO(content), "releves.csv")}, content_type="multipart/form-data")
    text = _plain(page.get_data(as_text=True))
    assert page.status_code == 200 and 'data-testid="import-preview"' in text
    assert "2 relevé(s) à importer, pour 5 468,75 €" in text and "468,75 €" in text
    assert _count() == 0
    with client.session_transaction() as session:
        token = session["import:units"]["token"]
    done = client.post(f"/operations/{operation.code}/unites/import/confirmer",
                       data={"token": token, "language": "fr"})
    assert done.status_code == 302
    assert _count() == 2 and len(_imports()) == 1
    assert _generation(operation) > before
    # No evidence yet: the realised amounts (a bilan's rules) wait for it; attached, 468,75.
    assert SIMPLIFIED not in assert_kept_right([operation])[operation.id]
    record = db.session.scalar(select(UnitRecord).where(UnitRecord.quantity.is_not(None)))
    services.attach_evidence(record, "emargement.pdf", PDF)
    db.session.commit()
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("468.75")


def test_page_refusal_lists_the_problems_and_stages_nothing(client, login, units_world):
    operation = units_world["operation"]
    hours, _deliverable = _lines(operation)
    login(client, units_world["officer"])
    content = (HEADER + f"{hours.id};31/13/2023;;12,5;;\n").encode()
    page = client.post(f"/operations/{operation.code}/unites/import",
                       data={"file": (io.BytesIO(content), "releves.csv")}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert 'data-testid="import-problems"' in text and "ligne 2, colonne Date de réalisation" in text
    with client.session_transaction() as session:
        assert "import:units" not in session
    assert _count() == 0


def test_english_page_reads_english_numbers(client, login, units_world):
    """On the English page « 1,234.5 » is 1 234,5 hours: 46 293,75 € (printed €46,293.75)."""
    operation = units_world["operation"]
    hours, _deliverable = _lines(operation)
    login(client, units_world["officer"])
    client.post("/compte/langue", data={"lang": "en"})
    content = (HEADER + f'{hours.id};2023-01-31;;1,234.5;;Workshops\n').encode()
    page = client.post(f"/operations/{operation.code}/unites/import",
                       data={"file": (io.BytesIO(content), "units.csv")}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert "46,293.75" in text and "Confirm" in text, text
    with client.session_transaction() as session:
        token = session["import:units"]["token"]
    assert client.post(f"/operations/{operation.code}/unites/import/confirmer",
                       data={"token": token, "language": "en"}).status_code == 302
    assert db.session.scalar(select(UnitRecord.amount)) == D("46293.75")


def test_who_may_import(client, login, units_world):
    operation = units_world["operation"]
    _lines(operation)
    login(client, units_world["controller"])
    assert client.get(f"/operations/{operation.code}/unites/import").status_code == 403
    assert 'data-testid="import-records"' not in client.get(f"/operations/{operation.code}/unites").get_data(
        as_text=True)
    login(client, units_world["officer"])
    template = client.get(f"/operations/{operation.code}/unites/modele.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_the_template_filled_in_is_accepted(client, login, units_world):
    """The template's headers are the importer's; its example row, typed in, is accepted."""
    from openpyxl import load_workbook

    from budget_app.units.imports import COLUMNS, check_file

    operation = units_world["operation"]
    hours, _deliverable = _lines(operation)
    login(client, units_world["officer"])
    workbook = load_workbook(io.BytesIO(client.get(f"/operations/{operation.code}/unites/modele.xlsx").data))
    assert [cell.value for cell in workbook.worksheets[0][1]] == list(COLUMNS.values())
    example = [row[2] for row in workbook["Colonnes"].iter_rows(min_row=2, values_only=True)]
    assert example[0] == str(hours.id)
    workbook.worksheets[0].append(example)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = check_file(operation, buffer.getvalue())
    assert not result.problems and [row.record.amount for row in result.to_import] == [D("468.75")]
