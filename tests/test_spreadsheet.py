import pytest

from budget_app.kernel.spreadsheet import csv_text, escape_text


@pytest.mark.parametrize("text", ["=1+2", "+33 1 23", "-2", "@SUM(A1)", "\tx", "\nx"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert escape_text(text) == "'" + text


@pytest.mark.parametrize("text, expected", [("\rx", "'\nx"), ("\0x", " x"), ("a\x0bb", "a b")])
def test_control_characters_are_cleaned_first(text, expected):
    assert escape_text(text) == expected


@pytest.mark.parametrize("text", ["Facture 12", "", "'déjà", "a=b"])
def test_other_text_is_unchanged(text):
    assert escape_text(text) == text
    assert csv_text(text) == text
