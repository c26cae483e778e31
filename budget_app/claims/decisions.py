"""The controller's spreadsheet (CSV or XLSX) for `bilans control`: one row per line of
the bilan decided during the service-done check (primer §8). All or nothing: every row
goes through the same rule as the screen (``control.decide_line``); any wrong row and
nothing is recorded, every problem listed as "ligne N, colonne X : message".

```
Ligne;Décision;Montant retenu;Motif;Commentaire
1;garder;;;
2;réduire;2 400,00;staff_time;100 h justifiées sur 120
3;écarter;;not_justified;
```
"""
from dataclasses import dataclass
from decimal import Decimal

from ..kernel.integers import parse_int
from ..kernel.errors import DomainError, Problem
from ..kernel.i18n import N_
from ..kernel.tabular import RowReader, cell_amount, cell_text, normalise_header, read_table
from ..kernel.transactions import atomic
from .control import check_controller, decide_line, lock_claim
from .models import CSF_REASONS, Claim, ClaimLine

COLUMNS = {
    "position": "Ligne",
    "decision": "Décision",
    "amount": "Montant retenu",
    "reason": "Motif",
    "comment": "Commentaire",
}
REQUIRED = frozenset({"position", "decision"})

# How the Décision column names the decisions (without case or accents).
DECISION_WORDS = {
    "keep": "kept", "kept": "kept", "garder": "kept", "retenir": "kept", "retenue": "kept",
    "reduce": "reduced", "reduced": "reduced", "reduire": "reduced", "reduite": "reduced",
    "exclude": "excluded", "excluded": "excluded", "ecarter": "excluded", "ecartee": "excluded",
}


@dataclass
class DecisionRow:
    line: int
    position: int
    decision: str
    amount: Decimal | None
    reason: str | None
    comment: str | None


def _position(value, required=True):
    text = cell_text(value, required=required, max_length=10)
    position = parse_int(text, minimum=1)
    if position is None:
        raise DomainError(N_("numéro de ligne du bilan attendu (1, 2, ...)"))
    return position


def _decision(value, required=True):
    text = cell_text(value, required=required, max_length=20)
    decision = DECISION_WORDS.get(normalise_header(text))
    if decision is None:
        raise DomainError(N_("décision « %(value)s » inconnue (garder, réduire ou écarter ; keep, reduce ou exclude)"),
                          value=text)
    return decision


def _reason(value, required=False):
    text = cell_text(value, required=False, max_length=200)
    if text is None:
        return None
    wanted = normalise_header(text)
    for code, label in CSF_REASONS.items():
        if wanted in (normalise_header(code), normalise_header(label)):
            return code
    raise DomainError(N_("motif « %(value)s » inconnu (codes : %(codes)s)"), value=text, codes=", ".join(CSF_REASONS))


def read_decisions(content: bytes) -> tuple[list[DecisionRow], list[Problem]]:
    table = read_table(content, COLUMNS, REQUIRED)
    problems = list(table.problems)
    if problems:
        return [], problems
    if not table.rows:
        return [], [Problem(DomainError(N_("Le fichier ne contient aucune décision.")))]
    rows, seen = [], {}
    for row in table.rows:
        read = RowReader(row, COLUMNS, problems)
        position = read("position", _position)
        decision = read("decision", _decision)
        amount = read("amount", cell_amount, required=False)
        reason = read("reason", _reason)
        comment = read("comment", cell_text, required=False, max_length=2000)
        if position is not None and position in seen:
            read.fail("position", DomainError(N_("ligne %(position)s du bilan déjà décidée ligne %(line)s du fichier"),
                                              position=position, line=seen[position]))
        if position is not None:
            seen.setdefault(position, row.line)
        if read.ok:
            rows.append(DecisionRow(row.line, position, decision, amount, reason, comment))
    return rows, problems


@atomic
def apply_decisions(claim: Claim, content: bytes, user) -> int:
    """Record every decision of the file, or none (DomainError listing every problem)."""
    lock_claim(claim)
    check_controller(claim, user)
    rows, problems = read_decisions(content)
    # The file decides on the lines as they are now: read under the claim's lock, so no
    # decision made meanwhile is overwritten unseen (a later one waits for this file).
    lines = {line.position: line for line in claim.lines.filter(ClaimLine.position.in_([row.position for row in rows]))}
    for row in rows:
        line = lines.get(row.position)
        if line is None:
            problems.append(Problem(DomainError(N_("le bilan n'a pas de ligne %(position)s"), position=row.position),
                                    line=row.line, column=COLUMNS["position"]))
            continue
        try:
            decide_line(claim, line, row.decision, user, amount=row.amount, reason=row.reason, comment=row.comment,
                        version=line.version)
        except DomainError as error:
            problems.append(Problem(error, line=row.line))
    if problems:
        raise DomainError(problems=problems)
    return len(rows)
