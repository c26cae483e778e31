"""Screens: list, plan, amendments and comparison, dashboard, envelopes, forms."""
import html
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from budget_app.kernel.extensions import db
from budget_app.kernel.audit.models import AuditEntry
from budget_app.operations.models import AmendmentRequest, Operation, PlanVersion
from budget_app.reporting import views as reporting_views

D = Decimal


def plain(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def page(response):
    return plain(html.unescape(response.get_data(as_text=True)))


@pytest.fixture
def admin(make_user, client, login, seeded):
    user = make_user("admin")
    login(client, user)
    return user


def test_home_and_list_show_visible_operations_with_figures(client, make_user, login, seeded):
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    login(client, officer)
    for url in ("/", "/operations/"):
        text = page(client.get(url))
        assert "HL-RSA-2023" in text and "833 750,00 €" in text and "500 250,00 €" in text
        assert "LOT-2019-ACI" not in text
        assert "30/06/2025" in text  # final balance deadline
    assert client.get("/operations/LOT-2019-ACI/").status_code == 404


def test_operation_page_shows_the_computed_plan(client, admin):
    text = page(client.get("/operations/HL-RSA-2023/"))
    assert "833 750,00 €" in text and "108 750,00 €" in text and "333 500,00 €" in text
    assert "362 500,00 €" in text and "54 375,00 €" in text  # per year
    assert "60,00 %" in text and "Convention" in text


def test_lot_page_is_marked_as_demonstration(client, admin):
    text = page(client.get("/operations/LOT-2019-ACI/"))
    assert "démonstration" in text and "178 000,00 €" in text and "26 700,00 €" in text


def _plan_form(**extra):
    data = {
        "costs-0-category": "PERSONNEL", "costs-0-year": "2023", "costs-0-amount": "362 500,00",
        "costs-1-category": "PERSONNEL", "costs-1-year": "2024", "costs-1-amount": "362 500,00",
        "flat_rates-INDIRECTS_15": "15",
        "resources-0-kind": "fse", "resources-0-name": "FSE+", "resources-0-amount": "500 250,00",
        "resources-1-kind": "self", "resources-1-name": "Autofinancement", "resources-1-amount": "333 500,00",
    }
    data.update(extra)
    return data


def _create_form(**extra):
    return _plan_form(**{
        "code": "NEW-1", "title": "Nouvelle action", "organisation_name": "Association test",
        "organisation_kind": "association", "organisation_siret": "999 046 000 00017", "envelope_id": "",
        "start_date": "2023-01-01", "end_date": "2024-12-31", "fse_rate": "60", "fse_amount": "500 250,00",
        "advance_rate": "30", "hours_divisor": "1607", "status": "programmed", **extra})


def test_admin_creates_an_operation(client, make_user, login, app):
    login(client, make_user("admin"))
    response = client.post("/operations/nouvelle", data=_create_form())
    assert response.status_code == 302, page(response)
    operation = db.session.scalar(select(Operation).filter_by(code="NEW-1"))
    assert operation.hours_divisor == 1607 and operation.advance_rate == D("30")
    assert operation.organisation.siret == "99904600000017"
    assert len(operation.plan_versions) == 1


@pytest.mark.parametrize("extra, message", [
    ({"resources-1-amount": "333 499,99"}, "total des ressources"),
    ({"fse_rate": "50"}, "n'est pas le taux"),
    ({"flat_rates-INDIRECTS_15": "20"}, "ne peut dépasser 15"),
    ({"flat_rates-RESTANTS_40": "40"}, "RESTANTS_40"),
    ({"end_date": "2022-12-31"}, "postérieure à la date de début"),
    ({"costs-1-amount": "36 25,00"}, "n'est pas un montant valide"),
    ({"organisation_siret": "99904600000018"}, "SIRET invalide"),
    ({"costs-2-category": "NATURE", "costs-2-year": "2023", "costs-2-amount": "100"}, "contributions en nature"),
])
def test_create_form_refuses_each_rule_and_writes_nothing(client, make_user, login, extra, message):
    login(client, make_user("admin"))
    response = client.post("/operations/nouvelle", data=_create_form(**extra))
    assert response.status_code == 400
    assert message in page(response)
    assert db.session.scalar(select(func.count()).select_from(Operation)) == 0


def test_covered_category_error_is_shown_on_its_row(client, make_user, login):
    login(client, make_user("admin"))
    response = client.post("/operations/nouvelle", data=_create_form(**{
        "flat_rates-INDIRECTS_15": "", "flat_rates-PERSONNEL_20": "20",
        "costs-2-category": "FONCTIONNEMENT", "costs-2-year": "2023", "costs-2-amount": "1000"}))
    text = page(response)
    assert response.status_code == 400 and "couverte par le taux forfaitaire Frais de personnel, taux forfaitaire plafonné à 20 %" in text
    assert "PERSONNEL_20" not in text.split("<form")[0] and "FONCTIONNEMENT :" not in text  # labels, never codes


def _amendment(**extra):
    return _plan_form(**{
        "amendment_number": "1", "signed_on": "2024-03-01", "reason": "Prolongation", "end_date": "2025-06-30",
        "fse_rate": "60", "fse_amount": "500 250,00", "costs-2-category": "PERSONNEL", "costs-2-year": "2025",
        "costs-2-amount": "0", **extra})


def _row(text, testid):
    match = re.search(rf'<tr class="warning" data-changed="1" data-testid="{re.escape(testid)}">(.*?)</tr>', text, re.S)
    assert match, f"{testid} not shown as changed"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _assert_every_difference(text):
    """The fixture amendment, worked by hand: staff 2024 362 500,00 → 300 000,00 (−62 500,00);
    indirect 15 % 108 750,00 → 99 375,00 (−9 375,00); total 833 750,00 → 761 875,00
    (−71 875,00); FSE+ resource and agreed FSE+ 500 250,00 → 457 125,00 (−43 125,00);
    self-financing « Autofinancement du Département de la Haute-Loire » 333 500,00 → 0,00 and
    « Autofinancement » 0,00 → 304 750,00 (renamed); end 31/12/2024 → 30/06/2025, payment
    deadline (end + 6 months) 30/06/2025 → 30/12/2025; FSE+ maximum 60 % × total:
    500 250,00 → 457 125,00. Ten rows changed, the others (rates, the 2023 and 2025 staff
    lines) shown unchanged."""
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    assert _row(text, "diff-cost-PERSONNEL-2024") == "Dépenses directes de personnel 2024 362 500,00 € 300 000,00 € -62 500,00 €"
    assert "108 750,00 € 99 375,00 € -9 375,00 €" in _row(text, "diff-flat_amount-INDIRECTS_15")
    assert _row(text, "diff-total-total").endswith("833 750,00 € 761 875,00 € -71 875,00 €")
    assert _row(text, "diff-resource-fse-FSE+").endswith("500 250,00 € 457 125,00 € -43 125,00 €")
    # The self-financing line is renamed: the old one goes, the new one comes.
    assert _row(text, "diff-resource-self-Autofinancement du Département de la Haute-Loire").endswith(
        "333 500,00 € 0,00 € -333 500,00 €")
    assert _row(text, "diff-resource-self-Autofinancement").endswith("0,00 € 304 750,00 € 304 750,00 €")
    assert _row(text, "diff-setting-end_date").endswith("31/12/2024 30/06/2025 modifié")
    assert _row(text, "diff-setting-payment_deadline").endswith("30/06/2025 30/12/2025 modifié")
    assert _row(text, "diff-setting-fse_amount").endswith("500 250,00 € 457 125,00 € -43 125,00 €")
    assert _row(text, "diff-setting-fse_max").endswith("500 250,00 € 457 125,00 € -43 125,00 €")
    assert text.count('data-changed="1"') == 10  # and nothing else is shown as changed
    assert "total éligible 833 750,00 € → 761 875,00 €" in text


def test_assigned_finance_officer_records_an_amendment_and_versions_are_kept(client, make_user, login, seeded):
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    login(client, officer)
    form = client.get("/operations/HL-RSA-2023/avenant")
    assert form.status_code == 200 and 'value="362 500,00"' in form.get_data(as_text=True)  # as pages print it
    response = client.post("/operations/HL-RSA-2023/avenant", data=_amendment(**{
        "costs-1-amount": "300 000,00", "resources-0-amount": "457 125,00", "fse_amount": "457 125,00",
        "resources-1-amount": "304 750,00"}))
    assert response.status_code == 302, page(response)
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    # Governance: pending until an administrator approves; the plan in force is unchanged.
    assert [v.number for v in operation.plan_versions] == [1]
    assert operation.end_date == date(2024, 12, 31) and operation.fse_amount == D("500250.00")
    text = page(client.get("/operations/HL-RSA-2023/"))
    assert 'data-testid="amendment-requests"' in text and "En attente d'approbation" in text
    assert 'data-testid="decide-amendment"' not in text  # the officer cannot approve
    request_id = db.session.scalar(select(AmendmentRequest.id))
    decision = f"/operations/HL-RSA-2023/avenants/{request_id}/decision"
    assert client.post(decision, data={"action": "approve"}).status_code == 403
    again = client.post("/operations/HL-RSA-2023/avenant", data=_amendment())
    assert again.status_code == 400 and "attend déjà l'approbation" in page(again)
    login(client, make_user("admin"))
    # The admin sees « avenant en attente » on the home page and the operations list.
    assert 'data-testid="amendment-pending"' in page(client.get("/"))
    assert 'data-testid="amendment-pending"' in page(client.get("/operations/"))
    # Approving needs the figures restated by the review page (issue 22).
    assert client.post(decision, data={"action": "approve"}).status_code == 302
    db.session.expire_all()
    assert [v.number for v in operation.plan_versions] == [1]
    review = page(client.get(f"/operations/HL-RSA-2023/avenants/{request_id}"))
    _assert_every_difference(review)
    confirmation = re.search(r'name="confirmation" value="([^"]+)"', review).group(1)
    assert confirmation == "761875.00/457125.00"
    assert client.post(decision, data={"action": "approve", "confirmation": confirmation}).status_code == 302
    db.session.expire_all()
    assert [v.number for v in operation.plan_versions] == [1, 2]
    assert 'data-testid="amendment-pending"' not in page(client.get("/"))
    assert operation.end_date == date(2025, 6, 30) and operation.fse_amount == D("457125.00")
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("amendment%"))).all()
    assert {"amendment_requested", "amendment", "amendment_approved"} <= set(actions)
    text = page(client.get("/operations/HL-RSA-2023/"))
    assert "Avenant n° 1" in text and "Prolongation" in text and "761 875,00 €" in text
    comparison = page(client.get("/operations/HL-RSA-2023/comparaison?de=1&a=2"))
    assert "833 750,00 €" in comparison and "761 875,00 €" in comparison and "-71 875,00 €" in comparison
    old = page(client.get("/operations/HL-RSA-2023/versions/1"))
    assert "833 750,00 €" in old


def test_an_administrator_rejects_a_pending_amendment_with_a_reason(client, make_user, login, seeded):
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    login(client, officer)
    client.post("/operations/HL-RSA-2023/avenant", data=_amendment())
    request_id = db.session.scalar(select(AmendmentRequest.id))
    decision = f"/operations/HL-RSA-2023/avenants/{request_id}/decision"
    login(client, make_user("admin"))
    client.post(decision, data={"action": "reject", "reason": ""})
    assert db.session.get(AmendmentRequest, request_id).state == "pending"
    client.post(decision, data={"action": "reject", "reason": "Taux non prévu par la convention"})
    db.session.expire_all()
    found = db.session.get(AmendmentRequest, request_id)
    assert found.state == "rejected" and found.decision_reason == "Taux non prévu par la convention"
    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    assert operation.end_date == date(2024, 12, 31) and len(operation.plan_versions) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "amendment_rejected"))
    assert entry.note == "Taux non prévu par la convention"
    assert "Taux non prévu par la convention" in page(client.get("/operations/HL-RSA-2023/"))


def test_amendment_errors_and_missing_reason(client, make_user, login, seeded):
    login(client, make_user("admin"))
    response = client.post("/operations/HL-RSA-2023/avenant", data=_amendment(reason="", **{"resources-1-amount": "1"}))
    text = page(response)
    assert response.status_code == 400
    assert "motif de l'avenant obligatoire" in text and "total des ressources" in text
    assert db.session.scalar(select(func.count()).select_from(PlanVersion)) == 2  # the two seed agreements


def test_controller_cannot_amend(client, make_user, login, seeded):
    login(client, make_user("controller", operations=["HL-RSA-2023"]))
    assert client.post("/operations/HL-RSA-2023/avenant", data=_amendment()).status_code == 403
    assert client.get("/operations/HL-RSA-2023/tableau-de-bord").status_code == 200


def _staff_cost(operation, amount, month=date(2023, 3, 1)):
    from budget_app.staff.models import (
        Person,
        StaffAssignment,
        StaffCostLine,
        Timesheet,
    )

    person = Person(registration_number=f"M{amount}", last_name="Martin", first_name="Lou")
    assignment = StaffAssignment(operation=operation, person=person, method="hourly")
    timesheet = Timesheet(assignment=assignment, month=month, state="approved")
    db.session.add(StaffCostLine(operation_id=operation.id, timesheet=timesheet, person=person, month=month,
                                 amount=amount, computation="test"))
    db.session.commit()
    from tests.staff.factories import attach_evidence

    attach_evidence(operation, assignments=[assignment])  # a complete line (primer §1, §4)


def test_dashboard_planned_realised_forecast_and_pace_warning(client, admin, monkeypatch):
    from budget_app.claims.models import Claim

    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    _staff_cost(operation, D("7280.00"))
    db.session.add(Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1),
                         period_end=date(2023, 12, 31), state="paid", fse_asked=D("5023.20"),
                         amount_paid=D("5023.20"), submitted_at=datetime(2024, 1, 5, tzinfo=timezone.utc)))
    db.session.add(Claim(operation_id=operation.id, number=2, period_start=date(2024, 1, 1),
                         period_end=date(2024, 6, 30), state="draft", fse_asked=D("999.00")))
    db.session.commit()
    monkeypatch.setattr(reporting_views, "today_in_paris", lambda: date(2023, 12, 31))
    response = client.get("/operations/HL-RSA-2023/tableau-de-bord")
    text = page(response)
    # Primer §5 worked month: 7 280,00 staff + 1 092,00 indirect = 8 372,00.
    assert "8 372,00 €" in text and "1 092,00 €" in text
    assert "5 023,20 €" in text  # asked (draft claims not counted) and paid
    assert "495 226,80 €" in text  # remaining = 500 250,00 - 5 023,20
    assert 'data-testid="pace-warning"' in text and "49,93 %" in text
    assert text.count("<svg") == 3 and text.count('data-testid="table-') == 3
    assert "style=" not in text and "<script>" not in text
    assert "30/06/2025" in text


def test_no_pace_warning_when_consumption_follows_time(client, admin, monkeypatch, app):

    operation = db.session.scalar(select(Operation).filter_by(code="HL-RSA-2023"))
    _staff_cost(operation, D("362500.00"))
    monkeypatch.setattr(reporting_views, "today_in_paris", lambda: date(2023, 12, 31))
    text = page(client.get("/operations/HL-RSA-2023/tableau-de-bord"))
    assert 'data-testid="pace-warning"' not in text
    app.config["PACE_WARNING_MARGIN_PERCENT"] = -1  # a margin below the gap warns
    assert 'data-testid="pace-warning"' in page(client.get("/operations/HL-RSA-2023/tableau-de-bord"))


def test_envelope_page(client, admin):
    listing = page(client.get("/enveloppes/"))
    assert "LOT-SG-2018-2020" in listing and "1 900 000,00 €" in listing
    text = page(client.get("/enveloppes/LOT-SG-2018-2020"))
    assert "LOT-2019-ACI" in text and "89 000,00 €" in text and "1 811 000,00 €" in text
    assert "<svg" in text and "style=" not in text
    assert client.get("/enveloppes/NOPE").status_code == 404


def test_envelope_overrun_from_the_form(client, admin):
    envelope_id = db.session.scalar(select(Operation).filter_by(code="LOT-2019-ACI")).envelope_id
    response = client.post("/operations/nouvelle", data=_create_form(**{
        "envelope_id": str(envelope_id), "fse_rate": "100", "fse_amount": "1 811 000,01",
        "costs-0-amount": "787 391,31", "costs-1-amount": "787 391,31",
        "resources-0-amount": "1 811 000,01", "resources-1-amount": "0"}))
    text = page(response)
    assert response.status_code == 400 and "serait dépassée" in text, re.sub(r"\s+", " ", text)[:3000]


def test_amendment_is_audited_with_its_reason(client, admin):
    from budget_app.kernel.audit.models import AuditEntry

    client.post("/operations/HL-RSA-2023/avenant", data=_amendment(reason="Prolongation de six mois"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "amendment"))
    assert entry is not None and entry.note == "Prolongation de six mois" and entry.actor.startswith("user:")


def test_concurrent_amendment_is_a_clear_message_not_a_500(client, admin, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from budget_app.operations import views

    def clash(*args, **kwargs):
        raise IntegrityError("INSERT INTO plan_versions", {}, Exception("number_unique_per_operation"))

    monkeypatch.setattr(views, "record_amendment", clash)
    response = client.post("/operations/HL-RSA-2023/avenant", data=_amendment())
    assert response.status_code == 400 and "Un autre avenant vient d'être enregistré" in page(response)
