"""Personal data (participants §5): identities encrypted at rest with a key of their own,
the audit trail holding codes and never an identity or a special-category answer, every
command-line read logged, the export pseudonymised."""
import csv
import io
import os
import stat

import pytest

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.participants.crypto import decrypt_identity, key_file_path
from budget_app.participants.models import Participant, ParticipantAccess, ParticipantIdentity
from budget_app.participants.records import identity_of


def test_identity_is_encrypted_with_its_own_key_file(worked_example, app):
    participant = db.session.scalar(db.select(Participant).where(Participant.age_at_entry == 24))
    blob = bytes(participant.identity.ciphertext)
    assert b"Exemple-Trois" not in blob and b"Brioude" not in blob
    assert identity_of(participant)["last_name"] == "Exemple-Trois"
    path = key_file_path(app)
    assert path.name == "participant_key" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.config.get("ALERT_KEY_FILE") != str(path)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DomainError):
        decrypt_identity(participant.code, tampered)
    other = db.session.scalar(db.select(Participant).where(Participant.id != participant.id))
    with pytest.raises(DomainError):  # the code is the associated data: no swapping identities
        decrypt_identity(other.code, blob)


def test_no_identity_in_the_database_file(worked_example, app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("reads the SQLite file")
    db.session.commit()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    raw = b"".join(open(name, "rb").read() for name in (path, path + "-wal") if os.path.exists(name))
    assert b"Exemple-Trois" not in raw and b"Yssingeaux" not in raw


def test_audit_entries_hold_codes_never_identities_or_special_answers(worked_example):
    entries = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.object_type.in_(("participants", "participant_identities")))).all()
    assert len(entries) == 10  # five records, five identities
    text = repr([(entry.before, entry.after) for entry in entries])
    assert "Exemple" not in text and "Brioude" not in text and "1999" not in text
    for entry in entries:
        if entry.object_type == "participants":
            assert entry.after["code"].startswith("P-")
            assert {entry.after[key] for key in ("disability", "third_country", "foreign_background",
                                                 "homeless")} == {"***"}
        else:
            assert entry.after["ciphertext"] == "***"


def test_cli_show_prints_the_identity_and_logs_the_read(worked_example, runner):
    code = db.session.scalar(db.select(Participant.code).where(Participant.age_at_entry == 57))
    result = runner.invoke(args=["participants", "show", "HL-RSA-2023", code])
    assert result.exit_code == 0, result.output
    assert "Nom : Exemple-Deux" in result.output and "Handicap : oui" in result.output
    logged = db.session.scalars(db.select(ParticipantAccess)).all()
    assert [(entry.participant_code, entry.action, entry.actor.startswith("cli:")) for entry in logged] == [
        (code, "cli_show", True)]


def test_cli_show_of_an_unknown_code_writes_nothing(worked_example, runner):
    result = runner.invoke(args=["participants", "show", "HL-RSA-2023", "P-NOPE"])
    assert result.exit_code == 1 and "Erreur : participant inconnu" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(ParticipantAccess)) == 0


def test_export_is_pseudonymised(worked_example, runner, tmp_path):
    target = tmp_path / "participants.csv"
    result = runner.invoke(args=["participants", "export", "HL-RSA-2023", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 6 and rows[0][0] == "Code" and "Nom" not in rows[0] and "Date de naissance" not in rows[0]
    assert "Exemple" not in text and "Brioude" not in text
    assert sorted(row[rows[0].index("Âge à l'entrée")] for row in rows[1:]) == ["24", "30", "34", "41", "57"]


def test_cli_import_refuses_with_line_and_column(hl_operation, runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Nom;Prénom;Date d'entrée;Niveau CITE\nExemple;Fictif;01/03/2023;12\n", encoding="utf-8")
    result = runner.invoke(args=["participants", "import", "HL-RSA-2023", str(path)])
    assert result.exit_code == 1
    assert "ligne 2, colonne Niveau CITE : entre 0 et 8" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(ParticipantIdentity)) == 0


def test_cli_import_twice_doubles_nothing(hl_operation, runner, tmp_path):
    from tests.participants.conftest import EXAMPLE

    first = runner.invoke(args=["participants", "import", "HL-RSA-2023", str(EXAMPLE)])
    assert first.exit_code == 0 and first.output.startswith("5 nouveau(x) participant(s)")
    # Without codes, the same person is found again by the keyed hash of names and birth date.
    again = runner.invoke(args=["participants", "import", "HL-RSA-2023", str(EXAMPLE)])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("0 nouveau(x) participant(s), 0 modifié(s), 0 réentrée(s), 5 déjà enregistré(s)")
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 5


def test_the_same_person_twice_in_one_file_is_refused(hl_operation, runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Nom;Prénom;Date de naissance;Date d'entrée\nExemple;Fictif;01/01/1990;01/03/2023\n"
                    "EXEMPLE;fictif;1990-01-01;01/04/2023\n", encoding="utf-8")
    result = runner.invoke(args=["participants", "import", "HL-RSA-2023", str(path)])
    assert result.exit_code == 1
    assert "ligne 3, colonne Nom : même personne (nom, prénom, date de naissance) qu'une ligne précédente" in result.output
