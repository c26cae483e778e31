"""Property: over any set of participants, the SQL indicator table equals a count made
record by record from the primer file's definitions (participants §2-§4), and the
consistency rules hold (EECO01 = EECO02 + EECO04 + EECO05; EECO03 ≤ EECO02; EECR01 only
for people inactive at entry; EECR01 and EECR04 never both count one person; totals =
women + men + non-binary; incomplete records count nowhere)."""
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from budget_app.kernel.extensions import db
from budget_app.participants.indicators import BREAKDOWN, CODES, consistency_problems, indicator_table
from budget_app.participants.models import Participant
from budget_app.participants.rules import add_months, missing

START, END = date(2023, 1, 1), date(2023, 12, 31)


@st.composite
def participant(draw):
    entry = date(2022, 6, 1) + timedelta(days=draw(st.integers(0, 700)))
    status = draw(st.none() | st.sampled_from(["chomeur", "inactif", "emploi"]))
    exit_ = draw(st.none() | st.integers(0, 400).map(lambda days: entry + timedelta(days=days)))
    answer = st.none() | st.sampled_from(["oui", "non", "refus"])
    result = st.none() | st.sampled_from(["oui", "non", "inconnue"])
    record = {
        "sex": draw(st.none() | st.sampled_from(["F", "H", "X"])),
        "entry_date": entry,
        "age_at_entry": draw(st.none() | st.integers(15, 70)),
        "employment_status": status,
        "unemployment_months": draw(st.none() | st.integers(0, 40)) if status == "chomeur" else None,
        "education_level": draw(st.none() | st.integers(0, 8)),
        "disability": draw(answer), "third_country": draw(answer), "foreign_background": draw(answer),
        "homeless": draw(answer),
        "rural": draw(st.none() | st.booleans()),
        "exit_date": exit_,
        "exit_situation": draw(st.none() | st.sampled_from(["recherche", "formation", "emploi", "inconnue"]))
        if exit_ else None,
        "qualification": draw(result) if exit_ else None,
        "employed_6m": draw(result) if exit_ else None,
        "improved_6m": draw(result) if exit_ and status == "emploi" else None,
    }
    return record


def expected(records):
    """Participants §2-§3 applied to each record in Python (the oracle)."""
    table = {code: dict.fromkeys(BREAKDOWN, 0) for code in CODES}
    keys = {"F": "femmes", "H": "hommes", "X": "non_binaires"}
    for r in records:
        if missing(r):
            continue
        status, age, months = r["employment_status"], r["age_at_entry"], r["unemployment_months"]
        counted = []
        if START <= r["entry_date"] <= END:
            counted += ["EECO01"]
            counted += {"chomeur": ["EECO02"], "inactif": ["EECO04"], "emploi": ["EECO05"]}[status]
            if status == "chomeur" and (months >= 12 or (age < 25 and months >= 6)):
                counted.append("EECO03")
            counted += ["EECO06"] if age < 18 else ["EECO07"] if age <= 29 else ["EECO08"] if age >= 55 else []
            level = r["education_level"]
            counted.append("EECO09" if level <= 2 else "EECO10" if level <= 4 else "EECO11")
            for code, key in (("EECO12", "disability"), ("EECO13", "third_country"),
                              ("EECO14", "foreign_background"), ("EECO16", "homeless")):
                if r[key] == "oui":
                    counted.append(code)
            if r["rural"]:
                counted.append("EECO17")
        exit_ = r["exit_date"]
        if exit_ and START <= exit_ <= END:
            situation = r["exit_situation"]
            if status == "inactif" and situation == "recherche":
                counted.append("EECR01")
            if situation == "formation":
                counted.append("EECR02")
            if r["qualification"] == "oui":
                counted.append("EECR03")
            if status in ("chomeur", "inactif") and situation == "emploi":
                counted.append("EECR04")
        if exit_ and START <= add_months(exit_, 6) <= END:
            if status in ("chomeur", "inactif") and r["employed_6m"] == "oui":
                counted.append("EECR05")
            if status == "emploi" and r["improved_6m"] == "oui":
                counted.append("EECR06")
        for code in counted:
            table[code][keys[r["sex"]]] += 1
            table[code]["total"] += 1
    return table


@settings(max_examples=60)
@given(records=st.lists(participant(), max_size=25))
def test_sql_counts_equal_the_definitions_and_stay_consistent(hl_operation, records):
    db.session.execute(db.delete(Participant))
    for number, record in enumerate(records):
        exit_ = record["exit_date"]
        db.session.add(Participant(operation_id=hl_operation.id, code=f"P-T{number:06d}", complete=not missing(record),
                                   follow_up_date=add_months(exit_, 6) if exit_ else None, **record))
    db.session.flush()
    table = indicator_table(hl_operation.id, START, END)
    assert table.counts == expected(records)
    assert consistency_problems(table) == []
    for key in BREAKDOWN:
        assert table.counts["EECO01"][key] == sum(table.counts[c][key] for c in ("EECO02", "EECO04", "EECO05"))
    db.session.rollback()
