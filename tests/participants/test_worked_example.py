"""Participants §7 worked by hand: five participants of the Haute-Loire action.

Ages at entry: P1 10/02/1989 → 06/03/2023 = 34; P2 20/05/1965 → 03/04/2023 = 57;
P3 15/01/1999 → 02/05/2023 = 24; P4 01/01/1982 → 01/06/2023 = 41; P5 01/07/1993 →
04/09/2023 = 30. 2023: entries P1-P5; exits P1-P5; six-month dates P1 29/03/2024,
P4 15/06/2024 (both in 2024). Expected tables copied from the primer file."""
import json
from datetime import date

import pytest

from budget_app.participants.indicators import CODES, consistency_problems, indicator_table
from budget_app.participants.models import Participant
from budget_app.kernel.extensions import db

# code: (femmes, hommes) for 2023, participants §7
EXPECTED_2023 = {
    "EECO01": (3, 2), "EECO02": (3, 0), "EECO03": (1, 0), "EECO04": (0, 1), "EECO05": (0, 1),
    "EECO06": (0, 0), "EECO07": (1, 0), "EECO08": (0, 1),
    "EECO09": (0, 2), "EECO10": (2, 0), "EECO11": (1, 0),
    "EECO12": (0, 1), "EECO13": (1, 0), "EECO14": (1, 0), "EECO15": (0, 0), "EECO16": (0, 1), "EECO17": (1, 0),
    "EECR01": (0, 1), "EECR02": (1, 0), "EECR03": (0, 1), "EECR04": (1, 0), "EECR05": (0, 0), "EECR06": (0, 0),
}


def _pairs(table):
    return {code: (row["femmes"], row["hommes"]) for code, row in table.counts.items()}


def test_ages_at_entry_are_computed_and_stored(worked_example):
    ages = sorted(db.session.scalars(db.select(Participant.age_at_entry)))
    assert ages == [24, 30, 34, 41, 57]
    assert db.session.scalar(db.select(db.func.count()).where(Participant.complete.is_(True))) == 5


def test_2023_gives_exactly_the_primer_table(worked_example):
    table = indicator_table(worked_example.id, date(2023, 1, 1), date(2023, 12, 31))
    assert _pairs(table) == EXPECTED_2023
    assert {code: row["total"] for code, row in table.counts.items()} == {
        code: f + h for code, (f, h) in EXPECTED_2023.items()}
    assert all(row["non_binaires"] == 0 for row in table.counts.values())
    assert consistency_problems(table) == []


def test_2024_gives_the_two_six_month_results(worked_example):
    table = indicator_table(worked_example.id, date(2024, 1, 1), date(2024, 12, 31))
    expected = {code: (0, 0) for code in CODES}
    expected["EECR05"] = (1, 0)  # P1, 29/03/2024
    expected["EECR06"] = (0, 1)  # P4, 15/06/2024
    assert _pairs(table) == expected


def test_whole_operation_is_2023_plus_the_two(worked_example):
    table = indicator_table(worked_example.id)
    expected = dict(EXPECTED_2023, EECR05=(1, 0), EECR06=(0, 1))
    assert _pairs(table) == expected


def test_cli_json_gives_the_same_table(worked_example, runner):
    result = runner.invoke(args=["participants", "indicators", "HL-RSA-2023", "--from", "01/01/2023", "--to",
                                 "2023-12-31", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == list(CODES)
    assert data["EECO01"] == {"femmes": 3, "hommes": 2, "non_binaires": 0, "total": 5}
    assert {code: (row["femmes"], row["hommes"]) for code, row in data.items()} == EXPECTED_2023


@pytest.mark.parametrize("code", ["EECO01", "EECR04"])
def test_cli_table_prints_each_code(worked_example, runner, code):
    result = runner.invoke(args=["participants", "indicators", "HL-RSA-2023", "--from", "2023-01-01", "--to",
                                 "2023-12-31"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith(code))
    assert line.split()[1:5] == {"EECO01": ["3", "2", "0", "5"], "EECR04": ["1", "0", "0", "1"]}[code]
