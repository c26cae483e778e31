"""Unit costs and lump sums (CPR 53(1)(b)-(c)), worked by hand in each docstring.

The world (``conftest``): 60 % FSE+, plan with 100 000,00 € of staff costs in 2023 and indirect
costs at 7 % of the direct costs (RPDC 54(a)). January 2023: one staff month of 120 h × 24,00 €/h
= 2 880,00 €."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.claims import control, lifecycle, selection
from budget_app.claims.models import ClaimLine
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.marks.models import LineMark
from budget_app.operations.plans import current_figures
from budget_app.operations.unit_lines import SIMPLIFIED
from budget_app.units import services
from budget_app.units.models import UnitRecord
from tests.staff.factories import make_staff_line

from tests.participants.conftest import EXAMPLE

from .conftest import JANUARY, PDF, lump_sum, unit_line


def _record(operation, line, day=date(2023, 1, 31), evidence=True, **values):
    record = services.record_units(operation, line.id, day, **values)
    if evidence:
        services.attach_evidence(record, "emargement.pdf", PDF)
    db.session.commit()
    return record


def test_unit_amount_is_units_times_rate_rounded_once(units_world):
    """12,5 heures × 37,50 € = 468,75 €; 3 unités × 33,33 € = 99,99 €; 0,5 × 0,01 € = 0,005
    → 0,01 € (half-up, once). The plan: 200 heures prévues × 37,50 € = 7 500,00 €, outside the
    base: total = 100 000,00 + 7 % × 100 000,00 (7 000,00) + 7 500,00 = 114 500,00 €."""
    operation = units_world["operation"]
    line = unit_line(operation)
    assert _record(operation, line, quantity=D("12.5")).amount == D("468.75")
    assert services.unit_amount(D("3"), D("33.33")) == D("99.99")
    assert services.unit_amount(D("0.5"), D("0.01")) == D("0.01")
    figures = current_figures(operation)
    assert (figures.simplified_total, figures.flat_rate_amounts["INDIRECTS_7"], figures.total_cost) == (
        D("7500.00"), D("7000.00"), D("114500.00"))


def test_unit_costs_stay_out_of_the_flat_rate_base(units_world):
    """January: staff 2 880,00 €; 12,5 h × 37,50 € = 468,75 € outside the base.
    Indirect 7 % × 2 880,00 = 201,60 €. Total = 2 880,00 + 201,60 + 468,75 = 3 550,35 €;
    FSE+ 60 % = 2 130,21 €."""
    operation = units_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    _record(operation, unit_line(operation), quantity=D("12.5"))
    figures = selection.compute_period(operation, *JANUARY).figures
    assert figures.categories == {"PERSONNEL": D("2880.00"), SIMPLIFIED: D("468.75")}
    assert figures.flat_rates == {"INDIRECTS_7": D("201.60")}
    assert (figures.total, figures.fse_asked) == (D("3550.35"), D("2130.21"))


def test_unit_costs_in_the_base_when_the_plan_says_so(units_world):
    """Same month, the plan line « in flat-rate base »: PRESTATIONS 468,75 € in the base.
    Base = 2 880,00 + 468,75 = 3 348,75; 7 % = 234,4125 → 234,41 €. Total = 3 348,75 +
    234,41 = 3 583,16 €; FSE+ 60 % = 2 149,896 → 2 149,90 €."""
    operation = units_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    _record(operation, unit_line(operation, in_base=True), quantity=D("12.5"))
    figures = selection.compute_period(operation, *JANUARY).figures
    assert figures.categories == {"PERSONNEL": D("2880.00"), "PRESTATIONS": D("468.75")}
    assert figures.flat_rates == {"INDIRECTS_7": D("234.41")}
    assert (figures.total, figures.fse_asked) == (D("3583.16"), D("2149.90"))


def test_in_base_refused_for_a_category_a_flat_rate_covers(app, make_operation):
    """RESTANTS_40 covers running costs: a lump sum of FONCTIONNEMENT cannot enter its base."""
    from tests.operations.factories import make_plan
    operation = make_operation("UC-40")
    make_plan(operation, costs={("PERSONNEL", 2023): "1000.00"}, flat_rates={"RESTANTS_40": "40"})
    with pytest.raises(DomainError) as refused:
        lump_sum(operation, in_base=True)
    assert [problem.field for problem in refused.value.problems] == ["in_flat_rate_base"]
    db.session.rollback()
    assert not operation.current_plan.unit_lines


def test_lump_sum_is_all_or_nothing(units_world):
    """Deliverable achieved: 5 000,00 €; the same deliverable not achieved: 0,00 €, left out
    (« livrable non réalisé »). Total 5 000,00 € (no base: 7 % × 0 = 0,00); FSE+ 3 000,00 €."""
    operation = units_world["operation"]
    line = lump_sum(operation)
    done = _record(operation, line, achieved=True)
    not_done = _record(operation, line, achieved=False)
    assert (done.amount, not_done.amount) == (D("5000.00"), D("0.00"))
    result = selection.compute_period(operation, *JANUARY, evidence=True)
    assert result.figures.categories == {"PERSONNEL": D("0.00"), SIMPLIFIED: D("5000.00")}
    assert (result.figures.total, result.figures.fse_asked) == (D("5000.00"), D("3000.00"))
    assert [(line.id, line.reason) for line in result.left_out] == [(not_done.id, "deliverable_not_achieved")]


def test_missing_evidence_is_left_out_of_a_bilan_with_its_reason(units_world):
    """A bilan counts complete records only: 468,75 € waits for its attendance sheet; a
    statement counts it (3 × 37,50 = 112,50 € with evidence, + 468,75 without = 581,25 €)."""
    operation = units_world["operation"]
    line = unit_line(operation)
    _record(operation, line, quantity=D("3"))
    missing = _record(operation, line, quantity=D("12.5"), evidence=False)
    bilan = selection.compute_period(operation, *JANUARY, evidence=True)
    assert bilan.figures.categories == {"PERSONNEL": D("0.00"), SIMPLIFIED: D("112.50")}
    assert [(line.id, line.reason) for line in bilan.left_out] == [(missing.id, "unit_evidence")]
    assert selection.compute_period(operation, *JANUARY).figures.categories[SIMPLIFIED] == D("581.25")


def test_fse_and_the_agreed_cap_apply_as_for_any_cost(app, make_operation):
    """Agreed FSE+ 1 000,00 €. Units 12,5 × 37,50 = 468,75 + lump sum 5 000,00 = 5 468,75 €
    (no staff: indirect 7 % × 0 = 0,00). FSE+ computed 60 % = 3 281,25 €, asked 1 000,00 €,
    above the cap 2 281,25 €."""
    from tests.operations.factories import make_plan
    operation = make_operation("UC-CAP", fse_amount=D("1000.00"))
    make_plan(operation, costs={("PERSONNEL", 2023): "1000.00"}, flat_rates={"INDIRECTS_7": "7"})
    _record(operation, unit_line(operation), quantity=D("12.5"))
    _record(operation, lump_sum(operation), achieved=True)
    figures = selection.compute_period(operation, *JANUARY, evidence=True).figures
    assert (figures.total, figures.fse_computed, figures.fse_asked, figures.fse_cap_excess) == (
        D("5468.75"), D("3281.25"), D("1000.00"), D("2281.25"))


def test_participants_who_completed_their_path_are_counted_by_code(worked_example):
    """Participants §7, exits from 01/09/2023 to 31/12/2023: P1 (29/09), P2 (31/10), P3 (30/11),
    P4 (15/12) « fin de parcours », P5 (17/11) « abandon »: 4 completed paths × 400,00 € =
    1 600,00 €. Counted again over the same months: nobody left (each counts once)."""
    operation = worked_example
    from tests.operations.factories import make_plan
    make_plan(operation, costs={("PERSONNEL", 2023): "1000.00"}, flat_rates={})
    line = unit_line(operation, rate="400.00", planned="20", category="PARTICIPANTS", label="",
                     counted_from_participants=True)
    assert line.label == "participant ayant achevé le parcours"
    record = services.record_units(operation, line.id, date(2023, 12, 31), period_start=date(2023, 9, 1))
    db.session.commit()
    assert (record.quantity, record.amount) == (D("4"), D("1600.00"))
    from budget_app.participants.models import Participant
    people = db.session.scalars(select(Participant).where(Participant.operation_id == operation.id)).all()
    finished = sorted(person.code for person in people if person.exit_reason == "fin")
    assert len(people) == 5 and record.participant_codes.split() == finished
    identities = EXAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    surnames = {row.split(";")[1] for row in identities if ";" in row}
    assert surnames and not any(name in record.participant_codes + record.description for name in surnames)
    with pytest.raises(DomainError, match="déjà comptés"):
        services.record_units(operation, line.id, date(2023, 12, 31), period_start=date(2023, 9, 1))


def test_marks_and_the_check_reduce_or_exclude_unit_lines(units_world):
    """January bilan: staff 2 880,00 + indirect 201,60 + units 468,75 + lump sum 5 000,00 =
    8 550,35 €, FSE+ 60 % = 5 130,21 €. The controller keeps the staff month, reduces the
    units to 10 × 37,50 = 375,00 € and excludes the lump sum. Retained: 2 880,00 + 201,60 +
    375,00 = 3 456,60 €; FSE+ due 60 % = 2 073,96 €."""
    operation, controller = units_world["operation"], units_world["controller"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    units = _record(operation, unit_line(operation), quantity=D("12.5"))
    deliverable = _record(operation, lump_sum(operation), achieved=True)
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, units_world["officer"], today=date(2023, 2, 15))
    db.session.commit()
    assert (claim.total_eligible, claim.fse_asked) == (D("8550.35"), D("5130.21"))
    marks = db.session.scalars(select(LineMark).where(LineMark.line_type == "unit_record")).all()
    assert sorted((mark.line_id, mark.kind, mark.bilan_id) for mark in marks) == [
        (units.id, "declared", claim.id), (deliverable.id, "declared", claim.id)]
    with pytest.raises(DomainError, match="bilan n° 1"):
        services.withdraw_record(units, "erreur")
    db.session.rollback()
    lines = {line.unit_record_id: line for line in db.session.scalars(
        select(ClaimLine).where(ClaimLine.claim_id == claim.id, ClaimLine.kind == "unit"))}
    control.decide_line(claim, lines[units.id], "reduced", controller, amount=D("375.00"), reason="not_justified")
    control.decide_line(claim, lines[deliverable.id], "excluded", controller, reason="not_justified")
    retained = control.finish_control(claim, controller)
    db.session.commit()
    assert retained.categories == {"PERSONNEL": D("2880.00"), SIMPLIFIED: D("375.00")}
    assert (retained.total, claim.fse_due) == (D("3456.60"), D("2073.96"))
    # The next statement finds the records declared already.
    later = selection.compute_period(operation, *JANUARY)
    assert {line.reason for line in later.left_out if line.kind == "unit"} == {"already_claimed"}
    assert db.session.get(UnitRecord, units.id).deleted_at is None


def test_exports_carry_the_unit_lines(units_world):
    """The statement of January (staff 2 880,00; units 468,75 outside the base; lump sum
    not achieved, left out): XLSX sheet « Coûts unitaires et forfaits » with its total
    468,75, the CSV's « Montant présenté » adding up to 3 348,75 (2 880,00 + 468,75), the
    Récapitulatif naming the simplified costs' line; the PDF writes."""
    import csv
    import io

    from openpyxl import load_workbook

    from budget_app.claims.exports import csv_bytes, xlsx_bytes
    from budget_app.claims.pdf import pdf_bytes
    from budget_app.claims.report import build_report, summary_rows

    operation = units_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    _record(operation, unit_line(operation), quantity=D("12.5"))
    _record(operation, lump_sum(operation), achieved=False)
    report = build_report(operation, *JANUARY)
    labels = {label: value for label, value, _kind in summary_rows(report)}
    assert labels["Coûts unitaires et montants forfaitaires (hors assiette des taux forfaitaires)"] == D("468.75")
    sheet = load_workbook(io.BytesIO(xlsx_bytes(report)))["Coûts unitaires et forfaits"]
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert any(row and row[1] == "heure d'atelier collectif" and row[6] == 468.75 for row in values)
    assert any(row and row[-1] == "Livrable non réalisé (montant forfaitaire : tout ou rien)" for row in values)
    rows = list(csv.reader(io.StringIO(csv_bytes(report).decode("utf-8-sig")), delimiter=";"))
    presented = [D(row[9].replace(",", ".")) for row in rows[1:] if row[9]]
    assert sum(presented) == D("3348.75")
    assert pdf_bytes(report).startswith(b"%PDF")


def test_an_amendment_carries_the_unit_lines(app, make_operation):
    """Agreement: staff 2 × 362 500,00 + 15 % (108 750,00) = 833 750,00 €, plus a lump sum of
    5 000,00 € outside the base = 838 750,00 €. The amendment's resources must balance that
    total: FSE+ 60 % × 838 750,00 = 503 250,00 + self-financing 335 500,00 = 838 750,00 (the
    agreement's 500 250,00 + 333 500,00 = 833 750,00 is refused); version 2 keeps the lump sum,
    version 1 is unchanged."""
    from budget_app.operations.rules import CostLine, FlatRateLine, PlanInput, ResourceLine
    from budget_app.operations.services import record_amendment
    from tests.operations.factories import add_seed_plan

    operation = make_operation("UC-AV")
    add_seed_plan(operation)
    lump_sum(operation)
    plan = PlanInput(costs=[CostLine("PERSONNEL", 2023, D("362500.00")), CostLine("PERSONNEL", 2024, D("362500.00"))],
                     flat_rates=[FlatRateLine("INDIRECTS_15", D("15"))], amendment_number="A1",
                     signed_on=date(2023, 6, 1), reason="Renfort")
    unbalanced = PlanInput(**{**plan.__dict__, "resources": [ResourceLine("fse", "FSE+", D("500250.00")),
                                                            ResourceLine("self", "Autofinancement", D("333500.00"))]})
    with pytest.raises(DomainError, match="différent du coût total"):
        record_amendment(operation, unbalanced, fse_amount=D("503250.00"))
    db.session.rollback()
    plan.resources = [ResourceLine("fse", "FSE+", D("503250.00")), ResourceLine("self", "Autofinancement", D("335500.00"))]
    version = record_amendment(operation, plan, fse_amount=D("503250.00"))
    db.session.commit()
    assert version.number == 2
    assert [(line.kind, line.rate) for line in version.unit_lines] == [("lump_sum", D("5000.00"))]
    assert [(line.kind, line.rate) for line in operation.plan_versions[0].unit_lines] == [("lump_sum", D("5000.00"))]
    assert current_figures(operation).total_cost == D("838750.00")


def test_a_held_record_is_left_out_until_released(units_world):
    """Held by the managing authority (« En attente »): 468,75 € leaves the statement (0,00 €
    of simplified costs), then counts again once the hold is released."""
    from budget_app.claims import holds

    operation = units_world["operation"]
    record = _record(operation, unit_line(operation), quantity=D("12.5"))
    holds.place_hold(operation, "unit_record", record.id, "attestation de présence à compléter")
    db.session.commit()
    result = selection.compute_period(operation, *JANUARY)
    assert result.figures.categories.get(SIMPLIFIED, D("0.00")) == D("0.00")
    assert [(line.id, line.reason) for line in result.left_out] == [(record.id, "held")]
    with pytest.raises(DomainError, match="en attente"):
        services.withdraw_record(record, "erreur")
    db.session.rollback()
    holds.release_hold(operation, "unit_record", record.id, "attestation reçue")
    db.session.commit()
    assert selection.compute_period(operation, *JANUARY).figures.categories[SIMPLIFIED] == D("468.75")
