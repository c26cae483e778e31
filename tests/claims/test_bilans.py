"""Bilans by the operation's length, their periods, the final bilan and its deadline
(primer §8-9): one golden test per rule, the hand computation in its docstring."""
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest

from budget_app.claims import bilans, control, lifecycle
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line


@pytest.mark.parametrize("start, end, months, allowed", [
    (date(2023, 1, 1), date(2023, 12, 31), 12, (0, 0)),
    (date(2023, 1, 15), date(2024, 1, 14), 12, (0, 0)),
    (date(2023, 1, 1), date(2024, 12, 31), 24, (0, 1)),   # the seed operation
    (date(2023, 1, 1), date(2025, 6, 30), 30, (1, 2)),
    (date(2023, 1, 1), date(2026, 12, 31), 48, (2, 3)),
    (date(2023, 1, 1), date(2024, 1, 10), 13, (0, 1)),
])
def test_number_of_bilans_by_length(make_operation, start, end, months, allowed):
    """Primer §8: up to 12 months, the final bilan only; 12-24 months, at most one interim;
    24-36 months, at least one; 36-48 months, at least two. Where only a minimum is given,
    one interim per started year but the last: 30 months = 3 started years -> 1 to 2;
    48 months = 4 -> 2 to 3. A started month counts: 01/01/2023-10/01/2024 = 13 months."""
    operation = make_operation(start_date=start, end_date=end)
    rule = bilans.bilan_rule(operation)
    assert (rule.months, (rule.min_interim, rule.max_interim)) == (months, allowed)


def test_a_bilan_beyond_what_the_length_allows_is_refused_quoting_the_rule(claims_world):
    """24 months (the seed operation): one interim bilan (January), then only the final one."""
    operation = claims_world["operation"]
    lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    with pytest.raises(DomainError) as refused:
        lifecycle.create_draft(operation, date(2023, 2, 1), date(2023, 6, 30))
    assert "au plus un bilan intermédiaire" in str(refused.value) and "fse.gouv.fr" in str(refused.value)  # the guidance quoted, never the primer
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    assert final.kind == "final" and bilans.bilan_label(final) == "Bilan final n° 2"


def test_a_twelve_month_operation_has_only_the_final_bilan(make_operation):
    operation = make_operation(start_date=date(2023, 1, 1), end_date=date(2023, 12, 31))
    with pytest.raises(DomainError, match="un seul bilan, le bilan final"):
        lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 6, 30))
    assert lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 12, 31), final=True).kind == "final"


def test_periods_follow_each_other_and_the_final_ends_on_the_end_date(claims_world):
    """Primer §9: the first bilan starts on the operation's start date, each next one the
    day after the previous one ends, the final one ends on the end date; nothing after it."""
    operation = claims_world["operation"]
    with pytest.raises(DomainError, match="doit commencer le 01/01/2023"):
        lifecycle.create_draft(operation, date(2023, 2, 1), date(2023, 2, 28))
    lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 6, 15))  # may end mid-month
    with pytest.raises(DomainError, match="doit commencer le 16/06/2023"):
        lifecycle.create_draft(operation, date(2023, 6, 15), date(2024, 12, 31), final=True)
    with pytest.raises(DomainError, match="se termine à la date de fin"):
        lifecycle.create_draft(operation, date(2023, 6, 16), date(2024, 11, 30), final=True)
    with pytest.raises(DomainError, match="c'est le bilan final"):
        lifecycle.create_draft(operation, date(2023, 6, 16), date(2024, 12, 31))
    lifecycle.create_draft(operation, date(2023, 6, 16), date(2024, 12, 31), final=True)
    with pytest.raises(DomainError, match="déjà créé"):
        lifecycle.create_draft(operation, date(2025, 1, 1), date(2025, 1, 31))


def test_only_the_latest_draft_can_be_deleted_and_bilans_are_submitted_in_order(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "100.00", month=date(2023, 1, 1))
    first = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    with pytest.raises(DomainError, match="dernier bilan"):
        lifecycle.delete_draft(first)
    with pytest.raises(DomainError, match="bilan n° 1"):
        lifecycle.submit_claim(final, today=date(2023, 3, 1))
    lifecycle.delete_draft(final)
    lifecycle.delete_draft(first)
    db.session.commit()
    assert bilans.bilans_of(operation) == []


def test_final_deadline_and_late_submission_warn(claims_world):
    """Primer §8-9: the final bilan is due 6 months after the end (31/12/2024 -> 30/06/2025);
    after that date it is still accepted, with a warning on the bilan and the dashboard."""
    operation = claims_world["operation"]
    assert bilans.final_deadline(operation) == date(2025, 6, 30)
    assert bilans.warnings(operation, date(2025, 6, 30)) == []
    late = [str(warning) for warning in bilans.warnings(operation, date(2025, 7, 1))]
    assert late == ["Bilan final en retard : il était dû le 30/06/2025 (fin de l'opération + 6 mois : fiche « Bilan, contrôle de service fait et paiement » du programme national FSE+, fse.gouv.fr) ; "
                    "il reste recevable."]
    make_staff_line(operation, "100.00", month=date(2023, 1, 1))
    final = lifecycle.create_draft(operation, date(2023, 1, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2025, 7, 2))
    final.submitted_at = datetime(2025, 7, 2, 10, tzinfo=timezone.utc)
    db.session.commit()
    assert final.state == "submitted"
    assert "après sa date limite du 30/06/2025" in str(bilans.late_submission(final))
    assert [str(warning) for warning in bilans.warnings(operation, date(2025, 8, 1))] == [
        str(bilans.late_submission(final))]


def test_missing_required_interim_is_a_warning(make_operation):
    """30 months require an interim bilan (primer §8): from half the period on (or once the
    final bilan exists) the dashboard says it is missing."""
    operation = make_operation(start_date=date(2023, 1, 1), end_date=date(2025, 6, 30))
    assert bilans.warnings(operation, date(2023, 6, 1)) == []
    text = [str(warning) for warning in bilans.warnings(operation, date(2024, 6, 1))]
    assert len(text) == 1 and text[0].startswith("Bilan intermédiaire manquant") and "0 déposé(s)" in text[0]
    # Not refused: the final bilan can still be created, the warning stays.
    lifecycle.create_draft(operation, date(2023, 1, 1), date(2025, 6, 30), final=True)
    assert bilans.warnings(operation, date(2023, 6, 1))


def test_a_final_bilan_with_nothing_left_is_still_the_balance(claims_world):
    """Everything was declared in the interim bilan: the final one, without lines, is
    submitted anyway, for the balance (here 0,00 €)."""
    operation = claims_world["operation"]
    make_staff_line(operation, "1000.00", month=date(2023, 1, 1))
    first = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(first, today=date(2023, 2, 1))
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2023, 2, 1))
    assert (final.total_eligible, final.fse_asked) == (D("0.00"), D("0.00"))


def test_an_earlier_bilan_is_not_withdrawn_or_reopened_under_a_later_one(claims_world):
    """The final bilan's figures rest on the interim one (primer §9): withdrawing the interim
    bilan while the final one is submitted, or reopening it once the final one is checked,
    is refused; the later one first."""
    operation, controller, admin = claims_world["operation"], claims_world["controller"], claims_world["admin"]
    make_staff_line(operation, "100.00", month=date(2023, 1, 1))
    make_staff_line(operation, "100.00", month=date(2023, 2, 1), name="Durand")
    interim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(interim, today=date(2023, 3, 1))
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2023, 3, 1))
    with pytest.raises(DomainError, match="retirez-le d'abord"):
        lifecycle.withdraw_claim(interim, "erreur")
    control.finish_control(interim, controller)
    control.finish_control(final, controller)
    with pytest.raises(DomainError, match="rouvrez-le d'abord"):
        lifecycle.reopen_claim(interim, "pièce retrouvée", admin)
    lifecycle.reopen_claim(final, "pièce retrouvée", admin)
    lifecycle.reopen_claim(interim, "pièce retrouvée", admin)
    assert (interim.state, final.state) == ("submitted", "submitted")
