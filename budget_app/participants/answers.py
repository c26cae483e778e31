"""The answers of a participant record as people type them (participants §6): the import
columns in French, and one parser per kind of answer accepting the obvious variants
(`Chômeur`, `chomeur`; `Oui`). Form, import and command read a row through here and
get the stored codes (``models``' vocabularies)."""
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from ..kernel.errors import DomainError, Problem
from ..kernel.i18n import N_
from ..kernel.tabular import cell_date, cell_text, normalise_header

# Column keys and headers, exactly as participants §6.
COLUMNS = {
    "code": "Code",
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "commune": "Commune",
    "sex": "Sexe",
    "entry_date": "Date d'entrée",
    "employment_status": "Situation à l'entrée",
    "unemployment_months": "Durée de chômage (mois)",
    "education_level": "Niveau CITE",
    "disability": "Handicap",
    "third_country": "Ressortissant pays tiers",
    "foreign_background": "Origine étrangère",
    "homeless": "Sans domicile ou exclusion du logement",
    "rural": "Zone rurale",
    "exit_date": "Date de sortie",
    "exit_reason": "Motif de sortie",
    "exit_situation": "Situation à la sortie",
    "exit_situation_date": "Date de la situation à la sortie",
    "qualification": "Qualification obtenue",
    "employed_6m": "Emploi à 6 mois",
    "improved_6m": "Situation améliorée à 6 mois",
}
# The identity (participant_identities, encrypted); "contact" is entered on the form only.
IDENTITY_KEYS = ("last_name", "first_name", "birth_date", "commune", "contact")
REQUIRED_COLUMNS = frozenset()  # a file may carry only the columns it updates (Code + exit, ...)

# Typed text (normalised like headers: case, accents, spaces) -> stored code.
_VARIANTS = {
    "sex": {"f": "F", "femme": "F", "h": "H", "homme": "H", "m": "H", "x": "X", "non binaire": "X"},
    "employment_status": {
        "chomeur": "chomeur", "chomeuse": "chomeur", "demandeur d'emploi": "chomeur",
        "inactif": "inactif", "inactive": "inactif",
        "en emploi": "emploi", "emploi": "emploi", "independant": "emploi", "independante": "emploi",
    },
    "answer": {"oui": "oui", "o": "oui", "non": "non", "n": "non", "refus": "refus", "refuse": "refus"},
    "rural": {"oui": True, "o": True, "non": False, "n": False},
    "exit_reason": {"fin de parcours": "fin", "fin": "fin", "abandon": "abandon", "autre": "autre"},
    "exit_situation": {
        "recherche d'emploi": "recherche", "en recherche d'emploi": "recherche", "recherche": "recherche",
        "formation": "formation", "en formation": "formation",
        "emploi": "emploi", "en emploi": "emploi",
        "inconnue": "inconnue", "inconnu": "inconnue",
    },
    "result": {"oui": "oui", "o": "oui", "non": "non", "n": "non", "inconnue": "inconnue", "inconnu": "inconnue"},
}
_EXPECTED = {
    "sex": N_("F, H ou X attendu"),
    "employment_status": N_("chômeur, inactif ou en emploi attendu"),
    "answer": N_("oui, non ou refus attendu"),
    "rural": N_("oui ou non attendu"),
    "exit_reason": N_("fin de parcours, abandon ou autre attendu"),
    "exit_situation": N_("recherche d'emploi, formation, emploi ou inconnue attendu"),
    "result": N_("oui, non ou inconnue attendu"),
}
KINDS = {
    "sex": "sex", "employment_status": "employment_status", "disability": "answer", "third_country": "answer",
    "foreign_background": "answer", "homeless": "answer", "rural": "rural", "exit_reason": "exit_reason",
    "exit_situation": "exit_situation", "qualification": "result", "employed_6m": "result", "improved_6m": "result",
}
DATE_KEYS = ("birth_date", "entry_date", "exit_date", "exit_situation_date")


def cell_choice(value, kind: str, required: bool = False):
    text = cell_text(value, required=False, max_length=60)
    if text is None:
        if required:
            raise DomainError(_EXPECTED[kind])
        return None
    found = _VARIANTS[kind].get(normalise_header(text))
    if found is None:
        raise DomainError(N_("%(expected)s, pas « %(value)s »"), expected=_EXPECTED[kind], value=text)
    return found


def cell_whole(value, low: int, high: int, required: bool = False) -> int | None:
    """A whole number in [low, high], typed in ASCII digits (never ``²``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = cell_text(value, required=False, max_length=12)
        if text is None:
            if required:
                raise DomainError(N_("valeur obligatoire"))
            return None
        if not text.isascii() or not text.isdigit():
            raise DomainError(N_("nombre entier attendu, pas « %(value)s »"), value=text)
        number = int(text)
    if not low <= number <= high:
        raise DomainError(N_("entre %(low)s et %(high)s"), low=low, high=high)
    return number


def cell_day(value, required: bool = False) -> date | None:
    day = cell_date(value, required=required)
    if day is not None and not 1900 <= day.year <= 2199:
        raise DomainError(N_("date hors de 1900-2199"))
    return day


@dataclass
class Answers:
    """One row (a form is a one-row import): the stored codes of what was typed, and
    which keys the row carries (an empty cell of an update keeps the recorded value)."""

    line: int
    values: dict = field(default_factory=dict)
    present: frozenset = frozenset()


def _parser(key: str):
    if key in KINDS:
        return partial(cell_choice, kind=KINDS[key])
    if key in DATE_KEYS:
        return cell_day
    if key == "unemployment_months":
        return partial(cell_whole, low=0, high=600)
    if key == "education_level":
        return partial(cell_whole, low=0, high=8)
    return partial(cell_text, required=False, max_length=120)


# One parser per column, chosen once (not per cell); "contact" is the form's only.
PARSERS = {key: _parser(key) for key in COLUMNS}
PARSERS["contact"] = partial(cell_text, required=False, max_length=200)


class AnswersReader:
    """Parses rows (``kernel.tabular.Row``) into Answers; a bad cell adds a Problem naming
    its column. The parsers are pure: a text already read in a column (« non », « chômeur »,
    the same entry date on 10 000 rows) gives its value again without being parsed again."""

    def __init__(self):
        self.known: dict[str, dict] = {key: {} for key in PARSERS}

    def __call__(self, row, problems: list) -> Answers | None:
        values, ok, cells = {}, True, row.values
        keys = (*COLUMNS, "contact") if "contact" in cells else COLUMNS
        for key in keys:
            raw = cells.get(key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if key == "contact":
                    values[key] = None  # the form's contact field, left empty: cleared
                continue  # an empty cell of the file: the recorded value is kept
            known = self.known[key] if raw.__class__ is str else None
            if known is not None and raw in known:
                values[key] = known[raw]
                continue
            try:
                value = PARSERS[key](raw)
            except DomainError as error:
                ok = False
                problems.append(Problem(error, line=row.line, column=COLUMNS.get(key)))
                continue
            if known is not None:
                known[raw] = value
            values[key] = value
        if not ok:
            return None
        return Answers(row.line, values, frozenset(values))


def read_answers(row, problems: list) -> Answers | None:
    """Parse one ``kernel.tabular.Row`` (a form is a one-row import)."""
    return AnswersReader()(row, problems)
