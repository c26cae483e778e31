"""What the entry and exit forms show and read. The forms are one-row imports
(``imports.save_participant``): their fields are the file's columns, typed as in a file,
so the rules and their messages are those of the import."""
from flask import request

from ..kernel.formatting import format_day
from .answers import COLUMNS

ENTRY_KEYS = ("last_name", "first_name", "birth_date", "commune", "contact", "sex", "entry_date", "employment_status",
              "unemployment_months", "education_level", "disability", "third_country", "foreign_background",
              "homeless", "rural")
EXIT_KEYS = ("exit_date", "exit_reason", "exit_situation", "exit_situation_date", "qualification", "employed_6m",
             "improved_6m")
# Fields offered as a list: the words a file carries.
CHOICES = {
    "sex": ["F", "H", "X"],
    "employment_status": ["chômeur", "inactif", "en emploi"],
    "disability": ["oui", "non", "refus"], "third_country": ["oui", "non", "refus"],
    "foreign_background": ["oui", "non", "refus"], "homeless": ["oui", "non", "refus"],
    "rural": ["oui", "non"],
    "exit_reason": ["fin de parcours", "abandon", "autre"],
    "exit_situation": ["recherche d'emploi", "formation", "emploi", "inconnue"],
    "qualification": ["oui", "non", "inconnue"], "employed_6m": ["oui", "non", "inconnue"],
    "improved_6m": ["oui", "non", "inconnue"],
}
_TYPED = {
    "employment_status": {"chomeur": "chômeur", "inactif": "inactif", "emploi": "en emploi"},
    "exit_reason": {"fin": "fin de parcours", "abandon": "abandon", "autre": "autre"},
    "exit_situation": {"recherche": "recherche d'emploi", "formation": "formation", "emploi": "emploi",
                       "inconnue": "inconnue"},
}
LABELS = {**COLUMNS, "contact": "Contact"}


def typed(key: str, value) -> str:
    """A recorded value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key in _TYPED:
        return _TYPED[key].get(value, value)
    if hasattr(value, "isoformat"):
        return format_day(value)  # as the reader's pages print it (ISO in English); both are read
    return str(value)


def form_values(participant, identity: dict | None) -> dict:
    values = {key: typed(key, getattr(participant, key)) for key in ENTRY_KEYS + EXIT_KEYS
              if hasattr(participant, key) and key not in ("contact",)}
    for key, value in (identity or {}).items():
        values[key] = typed(key, value)
    return values


def posted(keys) -> dict:
    """The typed values of ``keys`` (empty ones left out: an empty field keeps the record)."""
    return {key: request.form.get(key, "")[:500] for key in keys if request.form.get(key, "").strip()}


def errors_by_field(problems) -> tuple[dict, list]:
    """Problems of a one-row import, by the field's key; the others as general messages."""
    by_header = {label: key for key, label in LABELS.items()}
    errors: dict = {}
    general = []
    for problem in problems:
        key = by_header.get(getattr(problem, "column", None))
        if key:
            errors.setdefault(key, []).append(problem.message)
        else:
            general.append(getattr(problem, "message", str(problem)))
    return errors, general
