"""An operation's statement of account (relevé de compte FSE+, primer §5.5): the advances
and each checked bilan with its FSE+ due, payment expected, what was received and the
difference, a running balance (Σ FSE+ due − Σ received so far: positive while the paying
body owes, negative when the beneficiary must pay back), and the final bilan's settlement.
Shown on the bilans page, in ``bilans account`` and in the bilan's exports."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_money
from ..kernel.i18n import N_, translate
from ..kernel.money import ZERO
from .bilans import bilan_label
from .models import Advance, Claim
from .payments import expected_payment


@dataclass
class AccountRow:
    label: str  # « Avance », « Bilan intermédiaire n° 1 »...
    day: date | None  # the day it was paid (None: not yet)
    due: Decimal  # FSE+ due (0 for an advance)
    expected: Decimal | None  # payment expected (None for an advance or before the check)
    received: Decimal | None  # what was received (None: not yet)
    balance: Decimal  # running: Σ due − Σ received so far (+: owed to the beneficiary)
    kind: str = "bilan"  # "advance" or "bilan"
    number: int | None = None

    @property
    def difference(self) -> Decimal | None:
        """Received − expected: negative when the paying body paid less than expected."""
        if self.expected is None or self.received is None:
            return None
        return self.received - self.expected


@dataclass
class Account:
    rows: list = field(default_factory=list)
    total_due: Decimal = ZERO
    total_received: Decimal = ZERO
    settlement: Decimal | None = None  # the final bilan's payment expected, once checked
    settled: bool = False  # the final bilan is paid

    @property
    def balance(self) -> Decimal:
        return self.total_due - self.total_received


def statement_of_account(operation) -> Account:
    """Advances then checked bilans in number order: due, expected, received, running
    balance (Σ due − Σ received so far)."""
    account = Account()
    advances = db.session.scalars(
        select(Advance).where(Advance.operation_id == operation.id).order_by(Advance.paid_on, Advance.id)).all()
    for advance in advances:
        account.total_received += advance.amount
        account.rows.append(AccountRow(translate(N_("Avance")), advance.paid_on, ZERO, None, advance.amount,
                                       account.balance, kind="advance"))
    claims = db.session.scalars(select(Claim).where(
        Claim.operation_id == operation.id, Claim.state.in_(("controlled", "paid"))).order_by(Claim.number)).all()
    for claim in claims:
        expected = expected_payment(claim)
        received = claim.amount_paid if claim.state == "paid" else None
        account.total_due += claim.fse_due or ZERO
        account.total_received += received or ZERO
        account.rows.append(AccountRow(bilan_label(claim), claim.paid_on, claim.fse_due or ZERO, expected, received,
                                       account.balance, number=claim.number))
        if claim.kind == "final":
            account.settlement = expected
            account.settled = claim.state == "paid"
    return account


def account_rows(operation) -> list:
    """(label, value, kind) rows of the statement of account for a bilan's Récapitulatif
    (XLSX and PDF): one text row per movement, then the totals and the final's settlement."""
    account = statement_of_account(operation)
    if not account.rows:
        return []

    def part(label, value):
        return None if value is None else f"{label} {format_money(value)}"

    rows = [(None, None, "text"), ("Relevé de compte FSE+ de l'opération", None, "header")]
    for row in account.rows:
        label = row.label + (f" ({format_day(row.day)})" if row.day and row.received is not None else "")
        parts = [part("dû", row.due) if row.kind == "bilan" else None, part("attendu", row.expected),
                 part("reçu", row.received), part("écart", row.difference), part("solde", row.balance)]
        rows.append((label, " · ".join(text for text in parts if text), "text"))
    rows += [("Total FSE+ dû", account.total_due, "money"),
             ("Total reçu (avances et paiements)", account.total_received, "money"),
             ("Solde (FSE+ dû − reçu)", account.balance, "money")]
    if account.settlement is not None:
        rows.append(("Solde du bilan final (FSE+ dû sur toute l'opération − tout ce qui a été reçu)",
                     account.settlement, "money"))
    return rows
