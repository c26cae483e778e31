"""Unit costs and lump sums in the realised amounts of the home page, the operations list,
the envelope page and the operation's dashboard (``reporting``): the kept figures count
them as a statement does (``claims.unit_selection``), in the same lines as the bilan's
Récapitulatif, and follow every write that changes them."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from budget_app.claims import holds, lifecycle, selection
from budget_app.kernel.extensions import db
from budget_app.operations.unit_lines import SIMPLIFIED
from budget_app.reporting import kept_figures
from budget_app.reporting.kept_models import PendingFigure
from budget_app.reporting.overview import overviews
from budget_app.reporting.progress import operation_progress
from budget_app.units import services
from tests.expenses.factories import make_expense
from tests.reporting.test_kept_figures import assert_kept_right, rates_of
from tests.staff.factories import make_staff_line

from .conftest import PDF, lump_sum, unit_line

TODAY = date(2023, 6, 1)
MARGIN = D("15")


def _record(operation, line, day=date(2023, 1, 31), evidence=True, **values):
    record = services.record_units(operation, line.id, day, **values)
    if evidence:
        services.attach_evidence(record, "preuve.pdf", PDF)
    db.session.commit()
    return record


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _world(units_world):
    """January 2023 of UC-2023 (plan: staff 100 000,00 in 2023, indirect costs at 7 % of the
    direct costs), every kind of cost line, those a statement counts and those it does not."""
    operation = units_world["operation"]
    make_expense(operation, "1234.56", category="FONCTIONNEMENT", incurred_on=date(2023, 1, 10),
                 paid_on=date(2023, 1, 20))
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    hours = unit_line(operation)  # 37,50 € per hour, 200 planned, outside the base
    in_base = unit_line(operation, in_base=True, rate="33.33", planned="30", label="diagnostic individuel")
    deliverable = lump_sum(operation)  # 5 000,00 €, outside the base
    lines = {"hours": hours, "in_base": in_base, "deliverable": deliverable}
    records = {
        "hours": _record(operation, hours, quantity=D("12.5")),
        "in_base": _record(operation, in_base, quantity=D("3")),
        "achieved": _record(operation, deliverable, achieved=True),
        "not_achieved": _record(operation, deliverable, achieved=False),
        "no_evidence": _record(operation, hours, quantity=D("10"), evidence=False),
        "withdrawn": _record(operation, hours, quantity=D("4")),
        "held": _record(operation, hours, quantity=D("2")),
    }
    services.withdraw_record(records["withdrawn"], "saisi deux fois")
    holds.place_hold(operation, "unit_record", records["held"].id, "émargement à vérifier")
    db.session.commit()
    return operation, lines, records


def test_dashboard_realised_is_expenses_staff_flat_rate_and_units(units_world, client, login, runner):
    """Worked by hand. January 2023, a statement would count:
    - expense (running costs)           1 234,56
    - staff 120 h × 24,00               2 880,00
    - units in the base (PRESTATIONS): 3 × 33,33 =    99,99
    - units outside the base: 12,5 h × 37,50 = 468,75, lump sum achieved 5 000,00 → SIMPLIFIES 5 468,75
    - indirect costs 7 % × (2 880,00 + 1 234,56 + 99,99 = 4 214,55) = 295,0185 →   295,02
    Realised = 1 234,56 + 2 880,00 + 99,99 + 295,02 + 5 468,75 = 9 978,32 €.
    Left out: the lump sum not achieved (0,00), 10 h without evidence (375,00), 4 h withdrawn
    (150,00), 2 h held (75,00).
    Planned: 100 000,00 + PRESTATIONS 30 × 33,33 = 999,90 in the base, indirect 7 % ×
    100 999,90 = 7 069,993 → 7 069,99, outside the base 200 × 37,50 = 7 500,00 and 5 000,00:
    120 569,89 €. Consumed 9 978,32 / 120 569,89 = 8,2760 % → 8,28 %."""
    operation, _lines, _records = _world(units_world)
    statement = selection.compute_period(operation, operation.start_date, operation.end_date, as_of=TODAY,
                                         evidence=True, list_left_out=False).figures
    assert statement.categories == {"PERSONNEL": D("2880.00"), "FONCTIONNEMENT": D("1234.56"),
                                    "PRESTATIONS": D("99.99"), SIMPLIFIED: D("5468.75")}
    assert statement.flat_rates == {"INDIRECTS_7": D("295.02")}
    assert statement.total == D("9978.32")
    # The kept figures: the same lines as the Récapitulatif, to the cent.
    assert kept_figures.pending_sums([operation], rates_of, TODAY)[operation.id] == {
        "PERSONNEL": D("2880.00"), "FONCTIONNEMENT": D("1234.56"), "PRESTATIONS": D("99.99"),
        SIMPLIFIED: D("5468.75")}
    overview = overviews([operation], TODAY, MARGIN)[operation.id]
    progress = operation_progress(operation, TODAY, MARGIN)
    assert (overview.planned_total, overview.realised_total, overview.consumed_percent) == (
        D("120569.89"), D("9978.32"), D("8.28"))
    assert progress.realised_total == overview.realised_total
    # The dashboard's rows are the bilan's: categories, the simplified costs' line, the flat rate.
    assert [(row["code"], row["planned"], row["realised"]) for row in progress.rows] == [
        ("PERSONNEL", D("100000.00"), D("2880.00")), ("FONCTIONNEMENT", D("0"), D("1234.56")),
        ("PRESTATIONS", D("999.90"), D("99.99")), (SIMPLIFIED, D("12500.00"), D("5468.75")),
        ("INDIRECTS_7", D("7069.99"), D("295.02"))]
    db.session.commit()

    login(client, units_world["officer"])
    home = _plain(client.get("/").get_data(as_text=True))
    assert "120 569,89 €" in home and "8,28 %" in home
    dashboard = _plain(client.get(f"/operations/{operation.code}/tableau-de-bord").get_data(as_text=True))
    assert 'data-testid="realised-total">9 978,32 €' in dashboard
    assert "Coûts unitaires et montants forfaitaires (hors assiette des taux forfaitaires)" in dashboard
    client.post("/compte/langue", data={"lang": "en"})
    english = _plain(client.get(f"/operations/{operation.code}/tableau-de-bord").get_data(as_text=True))
    assert "Unit costs and lump sums (outside the flat-rate bases)" in english and "9,978.32" in english

    result = runner.invoke(args=["reporting", "rebuild-figures", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    kept = {row.category: row.amount for row in db.session.scalars(
        select(PendingFigure).where(PendingFigure.operation_id == operation.id))}
    assert kept[SIMPLIFIED] == D("5468.75") and kept["PRESTATIONS"] == D("99.99")
    result = runner.invoke(args=["reporting", "rebuild-figures", "--verify", "--today", TODAY.isoformat()])
    assert result.exit_code == 0 and ": 0 écart(s)" in result.output, result.output


def test_kept_figures_follow_every_write_on_unit_records(units_world):
    """From 5 468,75 € of SIMPLIFIES (above): the evidence of the 10 h attached (+ 375,00 =
    5 843,75), the hold released (+ 75,00 = 5 918,75), a new record of 1 h (+ 37,50 =
    5 956,25), the lump sum withdrawn (− 5 000,00 = 956,25); the January bilan then declares
    everything (nothing left to count: no figures kept, the realised total unchanged)."""
    operation, lines, records = _world(units_world)
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("5468.75")
    services.attach_evidence(records["no_evidence"], "emargement.pdf", PDF)
    db.session.commit()
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("5843.75")
    holds.release_hold(operation, "unit_record", records["held"].id, "émargement vérifié")
    db.session.commit()
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("5918.75")
    _record(operation, lines["hours"], quantity=D("1"))
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("5956.25")
    services.withdraw_record(records["achieved"], "livrable compté par erreur")
    db.session.commit()
    assert assert_kept_right([operation])[operation.id][SIMPLIFIED] == D("956.25")
    before = overviews([operation], TODAY, MARGIN)[operation.id].realised_total
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, units_world["officer"], today=date(2023, 2, 15))
    db.session.commit()
    assert assert_kept_right([operation])[operation.id] == {}
    assert overviews([operation], TODAY, MARGIN)[operation.id].realised_total == before


def test_evidence_bumps_its_own_operation_only(units_world, make_operation):
    """Attaching a record's evidence makes its operation's figures stale, not the others'."""
    from budget_app.reporting.kept_models import PendingFigureState
    from tests.operations.factories import make_plan

    operation = units_world["operation"]
    other = make_operation("UC-OTHER")
    make_plan(other, costs={("PERSONNEL", 2023): "1000.00"}, flat_rates={})
    record = _record(operation, unit_line(operation), quantity=D("2"), evidence=False)
    assert_kept_right([operation, other])

    def generations():
        return dict(db.session.execute(select(PendingFigureState.operation_id, PendingFigureState.generation)).all())

    before = generations()
    services.attach_evidence(record, "emargement.pdf", PDF)
    db.session.commit()
    after = generations()
    assert after[other.id] == before[other.id] and after[operation.id] > before[operation.id]
