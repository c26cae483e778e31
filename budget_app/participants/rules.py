"""The rules of a participant record (participants §1, §4), as pure functions over the
merged record (what is recorded, overlaid with what the row or form says). Each refusal
names its field; the form, the import and the command call the same ``check``.

- exit ≥ entry; months of unemployment only for a chômeur;
- the situation at exit is dated between the exit and exit + 28 days (else refused with
  that reason, or stored as « inconnue » when typed as such);
- the six-month answers only once exit + 6 months has passed; the improved situation
  only for someone employed at entry;
- sex X only where the operation's setting allows it (participants §1, product rule);
- a re-entry keeps the first entry and clears the previous exit (participants §1).
"""

from datetime import date, timedelta

from ..kernel.dates import add_months
from ..kernel.errors import DomainError
from ..kernel.i18n import N_

UPON_LEAVING_DAYS = 28  # "upon leaving" = within 4 weeks after the exit (participants §3)
FOLLOW_UP_MONTHS = 6
EXIT_KEYS = ("exit_date", "exit_reason", "exit_situation", "exit_situation_date", "qualification", "employed_6m",
             "improved_6m")
# What a complete record holds (participants §4), with the words a caseworker reads.
COMPLETENESS = (
    ("sex", N_("sexe")),
    ("age_at_entry", N_("date de naissance")),
    ("employment_status", N_("situation à l'entrée")),
    ("unemployment_months", N_("durée de chômage")),
    ("education_level", N_("niveau CITE")),
    ("rural", N_("zone rurale")),
    ("disability", N_("handicap")),
    ("third_country", N_("ressortissant pays tiers")),
    ("foreign_background", N_("origine étrangère")),
    ("homeless", N_("sans domicile ou exclusion du logement")),
)


def age_at(birth: date, day: date) -> int:
    """Whole years between ``birth`` and ``day`` (participants §2)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def missing(record: dict) -> list:
    """The labels of what a record lacks to count (participants §4); [] when complete."""
    found = []
    for key, label in COMPLETENESS:
        if key == "unemployment_months":
            if record.get("employment_status") == "chomeur" and record.get(key) is None:
                found.append(label)
        elif record.get(key) is None:
            found.append(label)
    return found


def merge(recorded: dict | None, answers: dict) -> tuple[dict, bool]:
    """The record after this row: (merged values, is a re-entry). A row carrying an entry
    date after the recorded exit is a re-entry: first entry kept, previous exit cleared."""
    if recorded is None:
        return dict(answers), False
    merged = dict(recorded)
    entry = answers.get("entry_date")
    reentry = bool(entry and recorded.get("exit_date") and entry > recorded["exit_date"])
    if reentry:
        for key in EXIT_KEYS:
            merged[key] = None
        merged["last_entry_date"] = entry
    for key, value in answers.items():
        if key == "entry_date" and recorded.get("entry_date") is not None:
            continue  # the first entry is kept; a different one is checked below
        merged[key] = value
    if merged.get("employment_status") != "chomeur" and "employment_status" in answers \
            and "unemployment_months" not in answers:
        merged["unemployment_months"] = None  # a status changed away from chômeur drops its months
    return merged, reentry


def check(record: dict, *, recorded: dict | None, answers: dict, reentry: bool, allow_non_binary: bool,
          operation_start: date, operation_end: date, today: date) -> list[tuple[str, DomainError]]:
    """Every refusal of the merged record, each with the key of its field."""
    problems: list[tuple[str, DomainError]] = []

    def refuse(key, message, **values):
        problems.append((key, DomainError(message, **values)))

    entry, exit_ = record.get("entry_date"), record.get("exit_date")
    if recorded is None:
        for key, message in (("last_name", N_("nom obligatoire pour un nouveau participant")),
                             ("first_name", N_("prénom obligatoire pour un nouveau participant")),
                             ("entry_date", N_("date d'entrée obligatoire"))):
            if not record.get(key):
                refuse(key, message)
    elif answers.get("entry_date") and not reentry and answers["entry_date"] != recorded["entry_date"]:
        refuse("entry_date", N_("la première entrée (%(first)s) est conservée : une nouvelle entrée doit suivre la "
                                "dernière sortie"), first=recorded["entry_date"])
    if recorded is not None and recorded.get("erased_at"):
        refuse("code", N_("participant effacé en fin de conservation (RPDC art. 82) : plus aucune modification"))
    latest_entry = record.get("last_entry_date") or entry
    if entry and not operation_start <= entry <= operation_end:
        refuse("entry_date", N_("entrée hors de la période de l'opération (%(start)s - %(end)s)"),
               start=operation_start, end=operation_end)
    if latest_entry and latest_entry > today:
        refuse("entry_date", N_("date d'entrée future"))
    if record.get("sex") == "X" and not allow_non_binary:
        refuse("sex", N_("X n'est pas admis pour cette opération (son paramétrage ne prévoit que F et H)"))
    birth = record.get("birth_date")
    if birth and entry and not birth < entry:
        refuse("birth_date", N_("la date de naissance doit précéder l'entrée"))
    elif birth and entry and age_at(birth, entry) >= 120:
        refuse("birth_date", N_("date de naissance invraisemblable (120 ans ou plus à l'entrée)"))
    if record.get("unemployment_months") is not None and record.get("employment_status") != "chomeur":
        refuse("unemployment_months", N_("durée de chômage seulement pour un chômeur"))
    if exit_ is None:
        for key in EXIT_KEYS[1:]:
            if record.get(key) is not None:
                refuse(key, N_("réponse de sortie sans date de sortie"))
        return problems
    if latest_entry and exit_ < latest_entry:
        refuse("exit_date", N_("la sortie (%(exit)s) précède l'entrée (%(entry)s)"),
               exit=exit_, entry=latest_entry)
    if exit_ > today:
        refuse("exit_date", N_("date de sortie future"))
    _check_exit_situation(record, exit_, refuse)
    _check_six_months(record, exit_, today, refuse)
    return problems


def _check_exit_situation(record, exit_, refuse):
    situation, dated = record.get("exit_situation"), record.get("exit_situation_date")
    if situation in (None, "inconnue"):
        if dated is not None and situation is None:
            refuse("exit_situation", N_("date de situation sans situation à la sortie"))
        return
    if dated is None:
        refuse("exit_situation_date", N_("date de la situation obligatoire (sauf « inconnue »)"))
        return
    last = exit_ + timedelta(days=UPON_LEAVING_DAYS)
    if not exit_ <= dated <= last:
        refuse("exit_situation_date", N_("situation datée du %(day)s, hors des 4 semaines suivant la sortie (du "
                                         "%(first)s au %(last)s) : saisissez « inconnue »"),
               day=dated, first=exit_, last=last)


def _check_six_months(record, exit_, today, refuse):
    due = add_months(exit_, FOLLOW_UP_MONTHS)
    for key in ("employed_6m", "improved_6m"):
        if record.get(key) not in (None, "inconnue") and today < due:
            refuse(key, N_("réponse à 6 mois possible à partir du %(due)s (sortie + 6 mois)"), due=due)
    if record.get("improved_6m") in ("oui", "non") and record.get("employment_status") != "emploi":
        refuse("improved_6m", N_("situation améliorée seulement pour une personne en emploi à l'entrée"))
