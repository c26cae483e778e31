"""No cost lost silently: submitting a bilan says which lines it leaves out and their total
by reason; the page asks for a confirmation naming that total, the command prints it.

Final bilan over 2023-2024 of HL-RSA-2023: Martin January 2023, 120 h × 24,00 €/h =
2 880,00 € (complete); Petit January 2023, 100 h × 30,00 € = 3 000,00 € (no signed timesheet)
and Roux January 2023, 50 h × 20,00 € = 1 000,00 € (no signed timesheet): 2 lines left out,
« Pièce du mois manquante », 4 000,00 €."""
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.claims import left_out, lifecycle
from budget_app.claims.models import Claim
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line

WHOLE = (date(2023, 1, 1), date(2024, 12, 31))


@pytest.fixture
def final_draft(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name="Martin")
    make_staff_line(operation, "3000.00", hours=D("100"), rate=D("30.00"), name="Petit", evidence=False)
    make_staff_line(operation, "1000.00", hours=D("50"), rate=D("20.00"), name="Roux", evidence=False)
    claim = lifecycle.create_draft(operation, *WHOLE, final=True)
    db.session.commit()
    return {**claims_world, "claim": claim}


def _text(response):
    return response.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ")


def test_the_summary_counts_and_totals_by_reason(final_draft):
    summary = left_out.left_out_summary(final_draft["claim"])
    assert [(item.reason, item.count, item.total) for item in summary.reasons] == [
        ("staff_month_evidence", 2, D("4000.00"))]
    assert (summary.count, summary.total) == (2, D("4000.00"))


def test_the_page_asks_for_a_confirmation_naming_the_total(final_draft, client, login):
    login(client, final_draft["officer"])
    page = _text(client.get("/operations/HL-RSA-2023/demandes/1"))
    assert "Ce bilan final laisse de côté 2 ligne(s) pour 4 000,00 €" in page
    assert "Déposer en laissant de côté 2 ligne(s) pour 4 000,00 €" in page
    refused = client.post("/operations/HL-RSA-2023/demandes/1/deposer")
    assert refused.status_code == 302
    assert db.session.get(Claim, final_draft["claim"].id).state == "draft"
    assert "2 ligne(s) pour 4 000,00 € resteront hors de ce bilan" in _text(
        client.get("/operations/HL-RSA-2023/demandes/1"))
    # A total that is no longer the one shown is refused too.
    client.post("/operations/HL-RSA-2023/demandes/1/deposer", data={"left_out_total": "3000.00"})
    assert db.session.get(Claim, final_draft["claim"].id).state == "draft"
    client.post("/operations/HL-RSA-2023/demandes/1/deposer", data={"left_out_total": "4000.00"})
    assert db.session.get(Claim, final_draft["claim"].id).state == "submitted"


def test_the_command_prints_the_same_summary_without_asking(final_draft, runner):
    result = runner.invoke(args=["bilans", "submit", "HL-RSA-2023", "1"])
    assert result.exit_code == 0, result.output
    output = result.output.replace("\u202f", " ").replace("\xa0", " ")
    assert "Lignes laissées de côté : 2, total 4 000,00 € (bilan final" in output
    assert "Pièce du mois manquante (fiche de temps signée ou bulletin de paie) : 2 ligne(s), 4 000,00 €" in output


def test_the_draft_lists_its_included_lines_a_page_at_a_time(final_draft, client, login, monkeypatch):
    operation = final_draft["operation"]
    make_staff_line(operation, "480.00", month=date(2023, 2, 1), hours=D("20"), rate=D("24.00"), name="Blanc")
    monkeypatch.setattr(left_out, "PAGE_SIZE", 1)
    login(client, final_draft["officer"])
    first = _text(client.get("/operations/HL-RSA-2023/demandes/1"))
    second = _text(client.get("/operations/HL-RSA-2023/demandes/1?page=2"))
    included = lambda page: page.split('data-testid="included-lines"')[1].split("</table>")[0]  # noqa: E731
    assert "Martin" in included(first) and "Blanc" not in included(first) and "page=2" in first
    assert "Blanc" in included(second) and "Martin" not in included(second)
    assert "Petit" not in included(first) + included(second)


def test_a_page_lists_the_first_left_out_lines_and_counts_them_all(final_draft, client, login, monkeypatch):
    """National volumes (issue 27): the page reads the first left-out lines only; the summary
    still counts and totals every one, in the database, as the full list does."""
    from budget_app.claims.selection import compute_period
    from budget_app.claims.views import claims as views

    claim = final_draft["claim"]
    every = compute_period(claim.operation, *WHOLE, claim=claim)
    first = compute_period(claim.operation, *WHOLE, claim=claim, left_out_limit=1)
    assert [line.description for line in every.left_out][:1] == [line.description for line in first.left_out]
    assert len(every.left_out) == 2 and len(first.left_out) == 1
    assert every.left_out_totals == first.left_out_totals == {"staff_month_evidence": (2, D("4000.00"))}
    assert (first.figures.total, first.staff_count) == (every.figures.total, every.staff_count) == (D("3312.00"), 1)
    monkeypatch.setattr(views, "LEFT_OUT_SHOWN", 0)  # the page reads one line
    login(client, final_draft["officer"])
    page = _text(client.get("/operations/HL-RSA-2023/demandes/1"))
    assert "Ce bilan final laisse de côté 2 ligne(s) pour 4 000,00 €" in page
    listed = page.split('data-testid="left-out"')[1].split("</table>")[0]
    assert listed.count("<tr>") == 2  # the header and one line
