"""The primer's worked examples (FSE-PRIMER §4) and the rounding rule: expected values are
literals worked by hand (the computation in each docstring)."""
import re
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from budget_app.staff import computations

D = Decimal
# "137,5 h × 32,00 €/h = 4 400,00 €": the printed figures, read back by hand below.
PRINTED = re.compile(r"^([0-9 ]+(?:,[0-9]+)?) h × ([0-9 ]+,[0-9]{2}) €/h = ([0-9 ]+,[0-9]{2}) €$")


def _read(text: str) -> Decimal:
    """A French-printed number read back without the code under test: "4 400,00" -> 4400.00."""
    return D(text.replace(" ", "").replace(",", "."))


def test_full_time_rate_primer():
    """Primer §4: 41 280,00 € / 1 720 h = 24,00 €/h exactly."""
    rate, text = computations.hourly_rate(D("41280.00"), 1720)
    assert rate == D("24.00")
    assert text == "41 280,00 € / 1 720 h = 24,00 €/h"


def test_january_amount_primer():
    """120 h × 24,00 €/h = 2 880,00 €."""
    assert computations.hourly_amount(D("120"), D("24.00")) == (D("2880.00"), "120 h × 24,00 €/h = 2 880,00 €")


def test_issue_example_text():
    """137,5 h × 32,00 €/h = 4 400,00 € (137,5 × 32 = 4 400)."""
    assert computations.hourly_amount(D("137.50"), D("32.00")) == (D("4400.00"), "137,5 h × 32,00 €/h = 4 400,00 €")


def test_half_time_rate_and_cap_primer():
    """Half time: reference hours 1 720 × 50 % = 860 h; 20 640,00 € / 860 h = 24,00 €/h."""
    rate, text = computations.hourly_rate(D("20640.00"), 1720, D("50"))
    assert rate == D("24.00")
    assert computations.reference_hours(1720, D("50")) == 860
    assert text == "20 640,00 € / (1 720 h × 50 % = 860 h) = 24,00 €/h"


def test_fixed_share_primer():
    """Fixed share (CPR 55(5)): 2 800,00 € × 50 % = 1 400,00 €."""
    assert computations.fixed_share_amount(D("2800.00"), D("50")) == (D("1400.00"), "2 800,00 € × 50 % = 1 400,00 €")


def test_rate_is_rounded_once_then_used():
    """30 000 / 1 607 = 18,6683... -> 18,67 €/h; 10 h -> 186,70 € (not 186,68 from the unrounded rate)."""
    rate, text = computations.hourly_rate(D("30000.00"), 1607)
    assert rate == D("18.67") and text == "30 000,00 € / 1 607 h = 18,67 €/h"
    assert computations.hourly_amount(D("10"), rate)[0] == D("186.70")


def test_half_up():
    """0,25 h × 0,50 €/h = 0,125 € -> 0,13 € (half-even would give 0,12 €)."""
    assert computations.hourly_amount(D("0.25"), D("0.50"))[0] == D("0.13")


@given(
    hours=st.decimals(min_value=0, max_value=744, places=2),
    annual=st.decimals(min_value=1, max_value=500000, places=2),
    share=st.sampled_from([D("100"), D("50"), D("80"), D("33.3333")]),
    divisor=st.sampled_from([1720, 1607]),
)
def test_amount_is_hours_times_printed_rate(hours, annual, share, divisor):
    """The printed figures give the printed amount: hours × printed rate, rounded half-up
    to the cent by hand (ROUND_HALF_UP), equals the printed amount and the stored one."""
    rate, rate_text = computations.hourly_rate(annual, divisor, share)
    amount, text = computations.hourly_amount(hours, rate)
    printed_hours, printed_rate, printed_amount = (_read(part) for part in PRINTED.match(text).groups())
    assert printed_hours == hours and printed_rate == rate == _read(rate_text.split("= ")[-1].removesuffix(" €/h"))
    by_hand = (printed_hours * printed_rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert amount == printed_amount == by_hand
