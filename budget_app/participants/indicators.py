"""The FSE+ common indicators of an operation for a period (participants §2, §3), by
women, men, non-binary persons and in total, computed in SQL over the pseudonymous
records (never over identities): one GROUP BY sex per kind of period.

- EECO01-EECO17: complete participants who ENTERED in the period (first entry);
- EECR01-EECR04: complete participants whose exit date lies in the period;
- EECR05-EECR06: complete participants whose exit + 6 months lies in the period.
Incomplete records count nowhere (participants §4): ``incomplete`` lists them.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from ..kernel.extensions import db
from ..kernel.i18n import N_
from .models import Participant
from .rules import missing

P = Participant
UNEMPLOYED_OR_INACTIVE = P.employment_status.in_(("chomeur", "inactif"))
LONG_TERM = and_(P.employment_status == "chomeur",
                 or_(P.unemployment_months >= 12, and_(P.age_at_entry < 25, P.unemployment_months >= 6)))
OUTPUTS = {
    "EECO01": (N_("Participants"), P.id.is_not(None)),
    "EECO02": (N_("Chômeurs, y compris de longue durée"), P.employment_status == "chomeur"),
    "EECO03": (N_("Chômeurs de longue durée"), LONG_TERM),
    "EECO04": (N_("Personnes inactives"), P.employment_status == "inactif"),
    "EECO05": (N_("Personnes en emploi, y compris indépendants"), P.employment_status == "emploi"),
    "EECO06": (N_("Enfants de moins de 18 ans"), P.age_at_entry < 18),
    "EECO07": (N_("Jeunes de 18 à 29 ans"), P.age_at_entry.between(18, 29)),
    "EECO08": (N_("Participants de 55 ans et plus"), P.age_at_entry >= 55),
    "EECO09": (N_("Niveau CITE 0 à 2"), P.education_level.between(0, 2)),
    "EECO10": (N_("Niveau CITE 3 ou 4"), P.education_level.between(3, 4)),
    "EECO11": (N_("Niveau CITE 5 à 8"), P.education_level.between(5, 8)),
    "EECO12": (N_("Participants handicapés"), P.disability == "oui"),
    "EECO13": (N_("Ressortissants de pays tiers"), P.third_country == "oui"),
    "EECO14": (N_("Participants d'origine étrangère"), P.foreign_background == "oui"),
    # Not collected in France (participants §2, product rule): always 0.
    "EECO15": (N_("Minorités (non collecté en France)"), None),
    "EECO16": (N_("Sans domicile ou exclus du logement"), P.homeless == "oui"),
    "EECO17": (N_("Participants des zones rurales"), P.rural.is_(True)),
}
UPON_LEAVING = {
    "EECR01": (N_("En recherche d'emploi à la sortie"),
               and_(P.employment_status == "inactif", P.exit_situation == "recherche")),
    "EECR02": (N_("En formation à la sortie"), P.exit_situation == "formation"),
    "EECR03": (N_("Qualification obtenue à la sortie"), P.qualification == "oui"),
    "EECR04": (N_("En emploi à la sortie"), and_(UNEMPLOYED_OR_INACTIVE, P.exit_situation == "emploi")),
}
SIX_MONTHS = {
    "EECR05": (N_("En emploi six mois après la sortie"), and_(UNEMPLOYED_OR_INACTIVE, P.employed_6m == "oui")),
    "EECR06": (N_("Situation améliorée six mois après la sortie"),
               and_(P.employment_status == "emploi", P.improved_6m == "oui")),
}
LABELS = {code: label for block in (OUTPUTS, UPON_LEAVING, SIX_MONTHS) for code, (label, _) in block.items()}
CODES = tuple(LABELS)
SEX_KEYS = {"F": "femmes", "H": "hommes", "X": "non_binaires"}
BREAKDOWN = ("femmes", "hommes", "non_binaires", "total")


@dataclass
class IndicatorTable:
    start: date | None
    end: date | None
    counts: dict = field(default_factory=dict)  # code -> {"femmes": n, "hommes": n, "non_binaires": n, "total": n}

    def as_json(self) -> dict:
        return {code: dict(self.counts[code]) for code in CODES}


def _in_period(column, start, end):
    conditions = [column.is_not(None)]
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return and_(*conditions)


def _count(block: dict, operation_id: int, column, start, end, counts: dict) -> None:
    columns = [func.sum(case((condition, 1), else_=0)).label(code)
               for code, (_label, condition) in block.items() if condition is not None]
    query = (select(P.sex, *columns)
             .where(P.operation_id == operation_id, P.complete.is_(True), _in_period(column, start, end))
             .group_by(P.sex))
    for row in db.session.execute(query).mappings():
        key = SEX_KEYS.get(row["sex"])
        for code in block:
            if key is not None and code in row:
                counts[code][key] += int(row[code] or 0)


def indicator_table(operation_id: int, start: date | None = None, end: date | None = None) -> IndicatorTable:
    counts = {code: dict.fromkeys(BREAKDOWN, 0) for code in CODES}
    _count(OUTPUTS, operation_id, P.entry_date, start, end, counts)
    _count(UPON_LEAVING, operation_id, P.exit_date, start, end, counts)
    _count(SIX_MONTHS, operation_id, P.follow_up_date, start, end, counts)
    for row in counts.values():
        row["total"] = row["femmes"] + row["hommes"] + row["non_binaires"]
    return IndicatorTable(start, end, counts)


def consistency_problems(table: IndicatorTable) -> list[str]:
    """The checks every table passes (participants §2, §3), by breakdown column: [] when consistent."""
    found = []
    c = table.counts
    for key in BREAKDOWN:
        def n(code):
            return c[code][key]
        checks = [
            ("EECO01 = EECO02 + EECO04 + EECO05", n("EECO01") == n("EECO02") + n("EECO04") + n("EECO05")),
            ("EECO03 <= EECO02", n("EECO03") <= n("EECO02")),
            ("EECO06 + EECO07 + EECO08 <= EECO01", n("EECO06") + n("EECO07") + n("EECO08") <= n("EECO01")),
            ("EECO09 + EECO10 + EECO11 = EECO01", n("EECO09") + n("EECO10") + n("EECO11") == n("EECO01")),
            ("EECO15 = 0", n("EECO15") == 0),
        ]
        found += [f"{key} : {rule}" for rule, ok in checks if not ok]
    for code in CODES:
        row = c[code]
        if row["total"] != row["femmes"] + row["hommes"] + row["non_binaires"]:
            found.append(f"{code} : total = femmes + hommes + non_binaires")
    return found


def incomplete_participants(operation_id: int) -> list[tuple[str, list]]:
    """(code, what is missing) of each incomplete record, by code (participants §4)."""
    rows = db.session.scalars(select(P).where(P.operation_id == operation_id, P.complete.is_(False)).order_by(P.code))
    return [(p.code, missing({key: getattr(p, key) for key in
                               ("sex", "age_at_entry", "employment_status", "unemployment_months", "education_level",
                                "rural", "disability", "third_country", "foreign_background", "homeless")}))
            for p in rows]
