import pytest

from budget_app.kernel.spreadsheet import escape_text


@pytest.mark.parametrize("text", ["=1+2", "+33 1 23", "-2", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert escape_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Facture 12", "", "'déjà", "a=b"])
def test_other_text_is_unchanged(text):
    assert escape_text(text) == text
