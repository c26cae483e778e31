"""Percentages on the dashboard round half-up (kernel/money, primer §5), where Python's
default half-even printed a different figure (issue 20, point 4)."""
from datetime import date
from decimal import Decimal as D

from budget_app.reporting.progress import elapsed_share, operation_progress
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

START, END = date(2023, 1, 1), date(2023, 2, 1)  # 32 days


def test_elapsed_share_rounds_half_up():
    """Day 1 of 32: 1 × 100 / 32 = 3,125 % -> 3,13 % (half-even gave 3,12 %); day 3 of 32:
    300 / 32 = 9,375 % -> 9,38 % (half-even 9,38 % too: the 7 is odd)."""
    assert elapsed_share(START, END, date(2023, 1, 1)) == D("3.13")
    assert elapsed_share(START, END, date(2023, 1, 3)) == D("9.38")
    assert elapsed_share(START, END, date(2022, 12, 31)) == D("0.00")


def test_dashboard_prints_consumed_and_elapsed_half_up(client, login, make_user, make_operation, monkeypatch):
    """Plan: 10 000,00 € of running costs, no flat rate. One paid invoice of 1 234,50 €:
    consumed = 1 234,50 × 100 / 10 000,00 = 12,345 % -> 12,35 % (half-even printed 12,34 %).
    On the first of 32 days: elapsed = 3,125 % -> 3,13 %."""
    operation = make_operation("OP-ROUND", start_date=START, end_date=END)
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={})
    make_expense(operation, "1234.50", incurred_on=date(2023, 1, 1), paid_on=date(2023, 1, 1))
    progress = operation_progress(operation, date(2023, 1, 1), D("15"))
    assert (progress.consumed_percent, progress.elapsed_percent) == (D("12.35"), D("3.13"))
    monkeypatch.setattr("budget_app.reporting.views.today_in_paris", lambda: date(2023, 1, 1))
    login(client, make_user("admin"))
    page = client.get("/operations/OP-ROUND/tableau-de-bord").get_data(as_text=True)
    assert 'data-testid="consumed">12,35\u00a0%' in page
    assert 'data-testid="elapsed">3,13\u00a0%' in page
