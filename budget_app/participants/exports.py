"""Pseudonymised export of an operation's participants (for the managing authority: codes
and answers, never an identity), and the per-participant export of the right of access
(GDPR art. 15) that a caseworker hands to the person. Both as CSV (``;``, every field
quoted and neutralised) or XLSX by the file name's ending."""
import csv
import io

from flask import Response
from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.i18n import translate
from ..kernel.memory import load_openpyxl
from ..kernel.spreadsheet import csv_text, xlsx_text
from .answers import COLUMNS, IDENTITY_KEYS
from .models import EXIT_REASONS, EXIT_SITUATIONS, SEXES, STATUSES, Participant
from .records import identity_of

PSEUDONYMOUS_KEYS = [key for key in COLUMNS if key not in IDENTITY_KEYS]
EXTRA = {"age_at_entry": "Âge à l'entrée", "complete": "Complet"}


def _shown(key: str, value) -> str:
    if value is None:
        return ""
    if key == "employment_status":
        return translate(STATUSES[value])
    if key == "exit_reason":
        return translate(EXIT_REASONS[value])
    if key == "exit_situation":
        return translate(EXIT_SITUATIONS[value])
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "isoformat"):
        return format_day(value, "fr")
    return str(value)


def pseudonymised_rows(operation) -> tuple[list, list]:
    header = [COLUMNS[key] for key in PSEUDONYMOUS_KEYS] + list(EXTRA.values())
    rows = []
    for participant in db.session.scalars(select(Participant).where(Participant.operation_id == operation.id)
                                          .order_by(Participant.code)):
        rows.append([_shown(key, getattr(participant, key)) for key in PSEUDONYMOUS_KEYS]
                    + [_shown("age_at_entry", participant.age_at_entry), _shown("complete", participant.complete)])
    return header, rows


def access_rows(participant) -> tuple[list, list]:
    """Everything recorded about one person (identity included): the right of access."""
    identity = identity_of(participant)
    header = ["Rubrique", "Valeur"]
    rows = [[COLUMNS.get(key, "Contact"), _shown(key, identity.get(key))] for key in IDENTITY_KEYS]
    rows += [[COLUMNS[key], _shown(key, getattr(participant, key))] for key in PSEUDONYMOUS_KEYS]
    rows.append([EXTRA["age_at_entry"], _shown("age_at_entry", participant.age_at_entry)])
    rows.append(["Sexe (libellé)", translate(SEXES[participant.sex]) if participant.sex else ""])
    return header, rows


def _text_cell(sheet, value: str):
    from openpyxl.cell import WriteOnlyCell  # openpyxl when a file is written, not at start

    cell = WriteOnlyCell(sheet, value=xlsx_text(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with (CHECKLIST §3)
    return cell


def write(header: list, rows: list, xlsx: bool) -> bytes:
    if xlsx:
        load_openpyxl()
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Participants")
        sheet.append(header)
        for row in rows:
            sheet.append([_text_cell(sheet, value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def download(content: bytes, name: str):
    mimetype = "text/csv; charset=utf-8" if name.endswith(".csv") else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
