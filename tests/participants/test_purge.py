"""Retention purge (participants §5, CPR 82): identities and special-category answers
erased with the documents; the other pseudonymous answers kept, so the indicators built
on them are unchanged; the bilan's frozen table untouched; the manifest lists each
participant erased, by code."""
import csv
from datetime import date
from decimal import Decimal

from budget_app.claims.models import Claim
from budget_app.claims.participant_indicators import ClaimIndicatorTable, freeze_indicator_table
from budget_app.kernel.extensions import db
from budget_app.participants.indicators import indicator_table
from budget_app.participants.models import SENSITIVE, Participant, ParticipantIdentity

SPECIAL = ("EECO12", "EECO13", "EECO14", "EECO16")


def test_purge_erases_identities_keeps_indicators_and_frozen_tables(worked_example, runner, tmp_path):
    operation = worked_example
    claim = Claim(operation_id=operation.id, number=1, kind="final", period_start=date(2023, 1, 1),
                  period_end=date(2024, 12, 31), state="paid", total_eligible=Decimal("10.00"),
                  fse_asked=Decimal("6.00"), paid_on=date(2019, 6, 30), amount_paid=Decimal("6.00"))
    db.session.add(claim)
    db.session.flush()
    frozen = freeze_indicator_table(claim)
    operation.status, operation.last_payment_date = "closed", date(2019, 6, 30)  # kept until 31/12/2024
    db.session.commit()
    before = indicator_table(operation.id, date(2023, 1, 1), date(2023, 12, 31)).as_json()
    manifest = tmp_path / "purge.csv"
    result = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--yes", "--manifest", str(manifest)])
    assert result.exit_code == 0, result.output
    assert "HL-RSA-2023 : conservation jusqu'au 31/12/2024, 0 pièce(s), 5 participant(s) à effacer" in result.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(ParticipantIdentity)) == 0
    participants = db.session.scalars(db.select(Participant)).all()
    assert all(p.erased_at is not None and p.identity_hash is None for p in participants)
    assert all(getattr(p, key) is None for p in participants for key in SENSITIVE)
    after = indicator_table(operation.id, date(2023, 1, 1), date(2023, 12, 31)).as_json()
    assert {code: row for code, row in after.items() if code not in SPECIAL} == \
        {code: row for code, row in before.items() if code not in SPECIAL}
    assert after["EECO01"] == {"femmes": 3, "hommes": 2, "non_binaires": 0, "total": 5}
    assert db.session.get(ClaimIndicatorTable, claim.id).counts == frozen
    assert frozen["EECO12"]["total"] == 1  # the reported disability count stays in the bilan
    with open(manifest, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert sorted(row["Nom d'origine"] for row in rows) == sorted(p.code for p in participants)
    assert all(row["Type"] == "participant" for row in rows)
    text = manifest.read_text(encoding="utf-8-sig")
    assert "Exemple" not in text
    again = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--yes"])
    assert "Aucune opération" in again.output
    shown = runner.invoke(args=["participants", "show", "HL-RSA-2023", participants[0].code])
    assert shown.exit_code == 0 and "Exemple" not in shown.output and "Handicap : \n" in shown.output
