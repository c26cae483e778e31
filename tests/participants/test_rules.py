"""A golden test per rule of participants §1 and §4, through the one service (a form is a
one-row import): each refusal names its column and changes nothing."""
from datetime import date

import pytest

from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.participants import records
from budget_app.participants.imports import import_participants, save_participant
from budget_app.participants.models import Participant
from budget_app.participants.rules import add_months, age_at, missing

BASE = {"last_name": "Exemple", "first_name": "Fictif", "birth_date": "01/01/1990", "commune": "Brioude",
        "sex": "F", "entry_date": "01/03/2023", "employment_status": "inactif", "education_level": "3",
        "disability": "non", "third_country": "non", "foreign_background": "non", "homeless": "non", "rural": "non"}


def refused(operation, **changes):
    values = {**BASE, **changes}
    values = {key: value for key, value in values.items() if value is not None}
    with pytest.raises(DomainError) as caught:
        save_participant(operation, values)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 0
    return [str(problem) for problem in caught.value.problems]


def test_age_and_dates_by_hand():
    assert age_at(date(1999, 1, 15), date(2023, 5, 2)) == 24
    assert age_at(date(1989, 2, 10), date(2023, 2, 9)) == 33  # the day before the birthday
    assert add_months(date(2023, 9, 29), 6) == date(2024, 3, 29)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)  # leap year: the month's last day


def test_exit_before_entry_is_refused(hl_operation):
    problems = refused(hl_operation, exit_date="28/02/2023")
    assert problems == ["ligne 0, colonne Date de sortie : la sortie (28/02/2023) précède l'entrée (01/03/2023)"]


def test_months_of_unemployment_only_for_a_chomeur(hl_operation):
    assert refused(hl_operation, unemployment_months="4") == [
        "ligne 0, colonne Durée de chômage (mois) : durée de chômage seulement pour un chômeur"]


def test_situation_at_exit_outside_four_weeks_is_refused_but_inconnue_is_stored(hl_operation):
    # exit 30/06/2023 + 28 days = 28/07/2023: the 29th is out.
    problems = refused(hl_operation, exit_date="30/06/2023", exit_situation="emploi", exit_situation_date="29/07/2023")
    assert problems == ["ligne 0, colonne Date de la situation à la sortie : situation datée du 29/07/2023, hors des "
                        "4 semaines suivant la sortie (du 30/06/2023 au 28/07/2023) : saisissez « inconnue »"]
    saved = save_participant(hl_operation, {**BASE, "exit_date": "30/06/2023", "exit_situation": "inconnue"})
    assert saved.exit_situation == "inconnue"
    on_the_last_day = save_participant(hl_operation, {**BASE, "exit_date": "30/06/2023", "exit_situation": "emploi",
                                                      "exit_situation_date": "28/07/2023"})
    assert on_the_last_day.exit_situation_date == date(2023, 7, 28)


def test_six_month_answers_only_once_six_months_have_passed(hl_operation, monkeypatch):
    monkeypatch.setattr(records, "today_in_paris", lambda: date(2023, 12, 29))
    problems = refused(hl_operation, exit_date="30/06/2023", employed_6m="oui")
    assert problems == ["ligne 0, colonne Emploi à 6 mois : réponse à 6 mois possible à partir du 30/12/2023 "
                        "(sortie + 6 mois)"]
    monkeypatch.setattr(records, "today_in_paris", lambda: date(2023, 12, 30))
    assert save_participant(hl_operation, {**BASE, "exit_date": "30/06/2023", "employed_6m": "oui"}).employed_6m == "oui"


def test_improved_situation_only_for_someone_employed_at_entry(hl_operation):
    assert refused(hl_operation, exit_date="30/06/2023", improved_6m="oui") == [
        "ligne 0, colonne Situation améliorée à 6 mois : situation améliorée seulement pour une personne en emploi à "
        "l'entrée"]


def test_sex_x_only_where_the_operation_allows_it(hl_operation):
    assert refused(hl_operation, sex="X") == [
        "ligne 0, colonne Sexe : X n'est pas admis pour cette opération (son paramétrage ne prévoit que F et H)"]
    records.set_non_binary(hl_operation, True)
    assert save_participant(hl_operation, {**BASE, "sex": "X"}).sex == "X"
    with pytest.raises(DomainError):
        records.set_non_binary(hl_operation, False)  # an X is recorded: the setting stays


def test_exactly_one_status_from_the_list(hl_operation):
    assert refused(hl_operation, employment_status="retraité") == [
        "ligne 0, colonne Situation à l'entrée : chômeur, inactif ou en emploi attendu, pas « retraité »"]


@pytest.mark.parametrize("column,value,message", [
    ("disability", "peut-être", "colonne Handicap : oui, non ou refus attendu, pas « peut-être »"),
    ("education_level", "9", "colonne Niveau CITE : entre 0 et 8"),
    ("education_level", "²", "colonne Niveau CITE : nombre entier attendu, pas « ² »"),
    ("rural", "refus", "colonne Zone rurale : oui ou non attendu, pas « refus »"),
])
def test_answers_outside_their_list_are_named(hl_operation, column, value, message):
    assert refused(hl_operation, **{column: value}) == [f"ligne 0, {message}"]


def test_results_without_an_exit_are_refused(hl_operation):
    assert refused(hl_operation, exit_situation="formation", exit_situation_date="01/04/2023") == [
        "ligne 0, colonne Situation à la sortie : réponse de sortie sans date de sortie",
        "ligne 0, colonne Date de la situation à la sortie : réponse de sortie sans date de sortie"]


def test_a_new_participant_needs_names_and_entry(hl_operation):
    assert refused(hl_operation, last_name=None, entry_date=None) == [
        "ligne 0, colonne Nom : nom obligatoire pour un nouveau participant",
        "ligne 0, colonne Date d'entrée : date d'entrée obligatoire"]


def test_a_refusal_counts_nowhere_but_completes_the_record(hl_operation):
    saved = save_participant(hl_operation, {**BASE, "disability": "refus"})
    assert saved.complete is True and saved.disability == "refus"


def test_incomplete_records_say_what_is_missing(hl_operation):
    saved = save_participant(hl_operation, {**{k: v for k, v in BASE.items() if k not in ("homeless", "rural")},
                                            "employment_status": "chômeur"})
    assert saved.complete is False
    record = {key: getattr(saved, key) for key in ("sex", "age_at_entry", "employment_status", "unemployment_months",
                                                   "education_level", "rural", "disability", "third_country",
                                                   "foreign_background", "homeless")}
    assert [str(label) for label in missing(record)] == ["durée de chômage", "zone rurale",
                                                         "sans domicile ou exclusion du logement"]


def test_reentry_keeps_the_first_entry_and_takes_the_last_exit(hl_operation):
    first = save_participant(hl_operation, {**BASE, "exit_date": "30/04/2023", "exit_reason": "abandon"})
    code = first.code
    db.session.commit()
    again = save_participant(hl_operation, {"code": code, "entry_date": "01/09/2023"})
    assert (again.id, again.entry_date, again.last_entry_date, again.exit_date) == (
        first.id, date(2023, 3, 1), date(2023, 9, 1), None)
    last = save_participant(hl_operation, {"code": code, "exit_date": "30/11/2023", "exit_reason": "fin de parcours"})
    assert (last.entry_date, last.exit_date, last.exit_reason) == (date(2023, 3, 1), date(2023, 11, 30), "fin")
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 1


def test_an_entry_date_cannot_move_without_an_exit(hl_operation):
    code = save_participant(hl_operation, BASE).code
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        save_participant(hl_operation, {"code": code, "entry_date": "02/03/2023"})
    assert [str(p) for p in caught.value.problems] == [
        "ligne 0, colonne Date d'entrée : la première entrée (01/03/2023) est conservée : une nouvelle entrée doit "
        "suivre la dernière sortie"]


def test_an_import_is_all_or_nothing_and_lists_every_problem(hl_operation):
    content = ("Nom;Prénom;Date de naissance;Sexe;Date d'entrée;Situation à l'entrée;Durée de chômage (mois)\n"
               "Exemple;Fictive;01/01/1990;F;01/03/2023;Chomeur;14\n"
               "Exemple;Fictif;01/01/1990;Z;01/03/2023;inactif;3\n").encode()
    with pytest.raises(DomainError) as caught:
        import_participants(hl_operation, content)
    db.session.rollback()
    assert [str(p) for p in caught.value.problems] == [
        "ligne 3, colonne Sexe : F, H ou X attendu, pas « Z »",
    ]
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 0
