"""Service-done check by sampling (primer §8; claims.sampling).

Golden example, by hand: five staff lines of 1 000,00 € in January 2023 (seed operation,
indirect costs at 15 % of staff, FSE+ 60 %); a 40 % sample = ceil(5 × 40 %) = 2 lines.
One sampled line reduced to 666,67 €: rejected 333,33 € of 2 000,00 € checked, error rate
16,6665 %. With extrapolation, the 3 unchecked lines (3 000,00 €) lose
3 000,00 × 333,33 / 2 000,00 = 499,995 -> 500,00 € (rounded once for the category).
Retained staff = 1 000,00 + 666,67 + 3 000,00 − 500,00 = 4 166,67 €; indirect 15 % on the
corrected base = 625,0005 -> 625,00 €; total 4 791,67 €; FSE+ due 60 % = 2 875,002 -> 2 875,00 €.
Without extrapolation the check becomes exhaustive: it cannot be finished until the
3 other lines are decided; kept, they give 4 666,67 + 700,00 = 5 366,67 €.
"""
import io
import random
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from budget_app.claims import control, exports, lifecycle, sampling
from budget_app.claims.models import ClaimLine
from budget_app.claims.report import build_report, csf_rows
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line


def _bilan(world, percent="40", extrapolate=True):
    operation = world["operation"]
    operation.csf_sample_percent = D(percent) if percent else None
    operation.csf_extrapolation = extrapolate
    for name in ("Martin", "Durand", "Petit", "Roux", "Blanc"):
        make_staff_line(operation, "1000.00", name=name)
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    return claim


def _reduce_one_sampled_line(claim, controller):
    positions = sorted(sampling.sample_positions(claim))
    line = claim.lines.filter(ClaimLine.position == positions[0]).one()
    control.decide_line(claim, line, "reduced", controller, amount=D("666.67"), reason="not_justified")
    db.session.commit()


def test_sample_size():
    assert [sampling.sample_size(count, D("40")) for count in (0, 1, 2, 5, 10)] == [0, 1, 1, 2, 4]
    assert sampling.sample_size(3, D("100")) == 3


def test_the_sample_is_drawn_once_with_its_seed_listed(claims_world):
    claim = _bilan(claims_world)
    controller = claims_world["controller"]
    positions = control.draw_sample(claim, controller)
    db.session.commit()
    assert claim.sample_seed and claim.sample_percent == D("40") and len(positions) == 2
    # Reproducible: anyone draws the same lines again from the seed.
    assert positions == set(random.Random(claim.sample_seed).sample([1, 2, 3, 4, 5], 2))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "draw_sample"))
    assert entry.after["seed"] == claim.sample_seed and entry.after["positions"] == ", ".join(str(p) for p in sorted(positions))
    with pytest.raises(DomainError, match="déjà tiré"):
        control.draw_sample(claim, controller)


def test_no_sample_when_the_operation_checks_everything(claims_world):
    claim = _bilan(claims_world, percent=None, extrapolate=False)
    with pytest.raises(DomainError, match="exhaustif"):
        control.draw_sample(claim, claims_world["controller"])
    assert claim.sample_seed is None


def test_golden_extrapolation_per_category_and_flat_rate_on_the_corrected_base(claims_world):
    claim = _bilan(claims_world)
    controller = claims_world["controller"]
    control.draw_sample(claim, controller)
    _reduce_one_sampled_line(claim, controller)
    sample = sampling.extrapolation(claim)
    assert (sample.checked, sample.rejected, sample.unchecked_count) == (D("2000.00"), D("333.33"), 3)
    assert sample.corrections == {"PERSONNEL": (D("3000.00"), D("500.00"))}
    assert sample.correction_text("PERSONNEL", "fr").replace("\u00a0", " ").replace("\u202f", " ") == (
        "3 000,00 € × 333,33 € / 2 000,00 € = 500,00 €")
    assert "16,6665" in sample.rate_text("fr")
    retained = control.finish_control(claim, controller)
    db.session.commit()
    assert retained.total == D("4791.67")
    assert claim.total_retained == D("4791.67") and claim.fse_due == D("2875.00")
    assert claim.figures["extrapolation"]["corrections"] == {"PERSONNEL": ["3000.00", "500.00"]}
    # Shown on the controller's page and in the exports, with its computation.
    report = build_report(claim.operation, claim.period_start, claim.period_end, claim=claim)
    rows = [row for row in csf_rows(report) if row[1] == "Extrapolation"]
    assert len(rows) == 1 and rows[0][8:10] == (D("-500.00"), D("500.00")) and f"graine {claim.sample_seed}" in rows[0]
    assert sum(row[8] for row in csf_rows(report)) == D("4166.67")  # the retained base, before the flat rate
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))["Contrôle"]
    assert any(row and "Extrapolation" in row for row in sheet.iter_rows(values_only=True))


def test_golden_without_extrapolation_the_check_becomes_exhaustive(claims_world, client, login):
    claim = _bilan(claims_world, extrapolate=False)
    controller = claims_world["controller"]
    control.draw_sample(claim, controller)
    _reduce_one_sampled_line(claim, controller)
    login(client, controller)
    page = client.get(f"/operations/HL-RSA-2023/demandes/{claim.number}").get_data(as_text=True)
    assert "le contrôle devient exhaustif" in page and f"graine {claim.sample_seed}" in page
    with pytest.raises(DomainError, match="le contrôle devient exhaustif"):
        control.finish_control(claim, controller)
    sampled = sampling.sample_positions(claim)
    for line in claim.lines.filter(ClaimLine.position.not_in(sorted(sampled))):
        control.decide_line(claim, line, "kept", controller)
    retained = control.finish_control(claim, controller)
    db.session.commit()
    assert retained.total == D("5366.67")  # 4 666,67 + 15 % (700,0005 -> 700,00)


def test_no_error_in_the_sample_keeps_the_unchecked_lines(claims_world):
    claim = _bilan(claims_world, extrapolate=False)
    controller = claims_world["controller"]
    control.draw_sample(claim, controller)
    retained = control.finish_control(claim, controller)
    assert retained.total == D("5750.00")  # 5 000,00 + 15 %
    assert claim.figures["extrapolation"]["corrections"] == {}


def test_the_controller_draws_from_the_page(claims_world, client, login):
    claim = _bilan(claims_world)
    login(client, claims_world["controller"])
    page = client.get(f"/operations/HL-RSA-2023/demandes/{claim.number}").get_data(as_text=True)
    assert 'data-testid="draw-sample"' in page
    response = client.post(f"/operations/HL-RSA-2023/demandes/{claim.number}/echantillon")
    assert response.status_code == 302
    db.session.refresh(claim)
    page = client.get(f"/operations/HL-RSA-2023/demandes/{claim.number}").get_data(as_text=True)
    assert f"graine {claim.sample_seed}" in page and page.count('data-testid="sampled"') == 2


def test_the_command_draws_the_same_way(claims_world, runner):
    claim = _bilan(claims_world)
    result = runner.invoke(args=["bilans", "sample", "HL-RSA-2023", str(claim.number), "--as", "ctrl@example.org"])
    assert result.exit_code == 0, result.output
    db.session.refresh(claim)
    positions = ", ".join(str(position) for position in sorted(sampling.sample_positions(claim)))
    assert f"graine {claim.sample_seed}, lignes {positions}." in result.output
