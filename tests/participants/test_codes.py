"""Participants' codes drawn for an import (new_records): « P- » and 8 letters of the
32-letter alphabet (no 0/O, 1/I), uniform, never twice, never one already held."""
from collections import Counter

from budget_app.participants import new_records
from budget_app.participants.new_records import CODE_ALPHABET, _draw, _fresh_codes


def test_codes_use_the_alphabet_only_and_every_letter_of_it():
    codes = _draw(2000)
    assert len(codes) == 2000
    assert all(len(code) == 10 and code.startswith("P-") and set(code[2:]) <= set(CODE_ALPHABET) for code in codes)
    letters = Counter("".join(code[2:] for code in codes))
    # 16 000 letters over 32: 500 expected each; a letter never drawn or drawn 3 times too
    # often would mean the base32 reading is wrong (0/O or 1/I would have crept in).
    assert set(letters) == set(CODE_ALPHABET)
    assert 350 < min(letters.values()) and max(letters.values()) < 650


def test_a_code_drawn_twice_or_already_held_is_drawn_again(app, monkeypatch, hl_operation):
    from budget_app.kernel.extensions import db
    from budget_app.participants.imports import import_participants

    import_participants(hl_operation, "Nom;Prénom;Date de naissance;Sexe;Date d'entrée\nMartin;Léa;01/02/1990;F;01/03/2023\n"
                        .encode(), filename="un.csv")
    db.session.commit()
    held = db.session.scalar(db.text("SELECT code FROM participants"))
    draws = iter([[held, "P-AAAAAAAA", "P-AAAAAAAA"], ["P-BBBBBBBB"], ["P-CCCCCCCC"]])
    monkeypatch.setattr(new_records, "_draw", lambda count: next(draws))
    codes = _fresh_codes(3)
    assert len(set(codes)) == 3 and held not in codes
    assert codes == ["P-CCCCCCCC", "P-AAAAAAAA", "P-BBBBBBBB"]
