"""The units pages: who may read and write (policy), a record with its evidence through the
form, a refusal that names the field and writes nothing, the command line."""
import io
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.units.models import UnitRecord

from .conftest import PDF, unit_line


def _count():
    return db.session.scalar(select(func.count()).select_from(UnitRecord))


@pytest.mark.parametrize("role, read, record", [
    ("finance_officer", 200, 302), ("controller", 200, 403), ("auditor", 200, 403), ("admin", 200, 403),
])
def test_who_reads_and_who_records(client, login, make_user, units_world, role, read, record):
    operation = units_world["operation"]
    line = unit_line(operation)
    user = units_world["officer"] if role == "finance_officer" else (
        units_world["controller"] if role == "controller" else make_user(role, email=f"{role}2@example.org"))
    login(client, user)
    page = client.get(f"/operations/{operation.code}/unites")
    assert page.status_code == read
    answer = client.post(f"/operations/{operation.code}/unites/releves", data={
        "plan_line": str(line.id), "delivered_on": "2023-01-31", "quantity": "12,5", "achieved": "",
        "description": "Ateliers de janvier", "evidence": (io.BytesIO(PDF), "emargement.pdf")},
        content_type="multipart/form-data")
    assert answer.status_code == record
    assert _count() == (1 if record == 302 else 0)


def test_unassigned_officer_sees_nothing(client, login, make_user, units_world):
    stranger = make_user("finance_officer", email="other@example.org")
    login(client, stranger)
    assert client.get(f"/operations/{units_world['operation'].code}/unites").status_code == 404


def test_form_record_with_evidence_is_complete_and_audited(client, login, units_world):
    operation = units_world["operation"]
    line = unit_line(operation)
    login(client, units_world["officer"])
    client.post(f"/operations/{operation.code}/unites/releves", data={
        "plan_line": str(line.id), "delivered_on": "31/01/2023", "quantity": "12,5", "achieved": "",
        "description": "Ateliers de janvier", "evidence": (io.BytesIO(PDF), "emargement.pdf")},
        content_type="multipart/form-data")
    record = db.session.scalar(select(UnitRecord))
    assert (record.quantity, record.amount, record.is_complete) == (D("12.50"), D("468.75"), True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "unit_records")) >= 1
    page = client.get(f"/operations/{operation.code}/unites")
    assert "468,75" in page.get_data(as_text=True)
    download = client.get(f"/operations/{operation.code}/unites/releves/{record.id}/preuve")
    assert download.status_code == 200 and download.data == PDF


@pytest.mark.parametrize("data, field_text", [
    ({"quantity": "-3"}, "négati"),
    ({"quantity": "douze"}, ""),
    ({"delivered_on": "2026-01-31"}, "période de réalisation"),
    ({"plan_line": "999999"}, "ligne du plan inconnue"),
])
def test_bad_input_names_the_problem_and_writes_nothing(client, login, units_world, data, field_text):
    operation = units_world["operation"]
    line = unit_line(operation)
    login(client, units_world["officer"])
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    values = {"plan_line": str(line.id), "delivered_on": "2023-01-31", "quantity": "3", "achieved": "",
              "description": "x", **data}
    answer = client.post(f"/operations/{operation.code}/unites/releves", data=values)
    assert answer.status_code == 400
    assert field_text in answer.get_data(as_text=True)
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_a_file_that_is_not_what_it_says_is_refused(client, login, units_world):
    operation = units_world["operation"]
    line = unit_line(operation)
    login(client, units_world["officer"])
    answer = client.post(f"/operations/{operation.code}/unites/releves", data={
        "plan_line": str(line.id), "delivered_on": "2023-01-31", "quantity": "3", "achieved": "", "description": "x",
        "evidence": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "emargement.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert _count() == 0


def test_cli_plan_line_record_list_and_bad_row(runner, units_world, tmp_path):
    operation = units_world["operation"]
    proof = tmp_path / "emargement.pdf"
    proof.write_bytes(PDF)
    result = runner.invoke(args=["units", "plan-line", operation.code, "--kind", "unit", "--year", "2023",
                                 "--category", "PRESTATIONS", "--label", "heure d'atelier", "--rate", "37,50",
                                 "--planned-units", "200"])
    assert result.exit_code == 0, result.output
    assert "7\u202f500,00" in result.output and "hors assiette" in result.output
    line_id = operation.current_plan.unit_lines[0].id
    result = runner.invoke(args=["units", "record", operation.code, "--line", str(line_id), "--date", "31/01/2023",
                                 "--quantity", "12,5", "--evidence", str(proof)])
    assert result.exit_code == 0, result.output
    assert "12,5 × 37,50" in result.output and "468,75" in result.output and "preuve jointe" in result.output
    refused = runner.invoke(args=["units", "record", operation.code, "--line", str(line_id), "--date", "31/01/2023",
                                  "--quantity", "0"])
    assert refused.exit_code == 1 and "unités réalisées" in refused.output
    assert _count() == 1
    listing = runner.invoke(args=["units", "list", operation.code])
    assert "ligne" in listing.output and "relevé" in listing.output and "468,75" in listing.output
    assert date(2023, 1, 31).strftime("%d/%m/%Y") in listing.output


def test_the_plan_prints_the_simplified_costs_so_its_parts_add_up(client, login, units_world):
    """Plan: staff 100 000,00 + indirect 7 % 7 000,00 + units 200 × 37,50 = 7 500,00 outside
    the base = 114 500,00 € (the row is printed, so the parts add up to the total)."""
    operation = units_world["operation"]
    unit_line(operation)
    login(client, units_world["officer"])
    page = client.get(f"/operations/{operation.code}/").get_data(as_text=True)
    assert 'data-testid="plan-simplified"' in page
    assert "7\u202f500,00" in page and "114\u202f500,00" in page


def test_evidence_attached_later_then_withdrawal_with_a_reason(client, login, units_world):
    """A record without evidence is « Preuve manquante »; its evidence attached from the page
    completes it; a withdrawal without a reason changes nothing, with one it is kept, withdrawn."""
    from budget_app.units import services

    operation = units_world["operation"]
    record = services.record_units(operation, unit_line(operation).id, date(2023, 1, 31), quantity=D("3"))
    db.session.commit()
    login(client, units_world["officer"])
    assert "Preuve manquante" in client.get(f"/operations/{operation.code}/unites").get_data(as_text=True)
    client.post(f"/operations/{operation.code}/unites/releves/{record.id}/joindre-preuve",
                data={"evidence": (io.BytesIO(PDF), "emargement.pdf")}, content_type="multipart/form-data")
    db.session.refresh(record)
    assert record.is_complete and record.original_name == "emargement.pdf"
    client.post(f"/operations/{operation.code}/unites/releves/{record.id}/retrait", data={"reason": " "})
    db.session.refresh(record)
    assert record.deleted_at is None
    client.post(f"/operations/{operation.code}/unites/releves/{record.id}/retrait", data={"reason": "saisi deux fois"})
    db.session.refresh(record)
    assert (record.deleted_at is not None, record.delete_reason) == (True, "saisi deux fois")
    assert _count() == 1
