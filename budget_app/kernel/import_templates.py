"""XLSX templates of the imports, generated from each importer's own column definitions:
the header row, drop-down lists where the values are fixed (category, method, oui/non) and
a second sheet giving, for each column, whether it is required, an example and what to type.
The example is on that sheet, not under the headers, so it is never imported by mistake.
Header rows are the kernel spreadsheet writer's (``sheet_writer``)."""
import io

from .memory import load_openpyxl
from .sheet_layout import freeze_below
from .sheet_writer import header_cells

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_workbook(columns: dict, required, example: dict, choices: dict | None = None,
                      help_texts: dict | None = None, title: str = "Import") -> bytes:
    """``columns``: key -> French header (the importer's); ``example``: key -> a valid value;
    ``choices``: key -> allowed values (a drop-down list); ``help_texts``: key -> what to type."""
    choices = choices or {}
    help_texts = help_texts or {}
    load_openpyxl()
    from openpyxl import Workbook  # openpyxl when a template is written, not at start
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    keys = list(columns)
    sheet.append(header_cells(sheet, [columns[key] for key in keys], wrap=False))
    for index, key in enumerate(keys, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(14, len(columns[key]) + 4)
        if key in choices:
            listed = ",".join(choices[key])
            validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=key not in required)
            validation.error = "Choisissez une valeur de la liste : " + ", ".join(choices[key])
            validation.showErrorMessage = True
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}1000")
    freeze_below(sheet, 1)
    notes = workbook.create_sheet("Colonnes")
    notes.append(header_cells(notes, ["Colonne", "Obligatoire", "Exemple", "À saisir"], wrap=False))
    for key in keys:
        allowed = f" Valeurs : {', '.join(choices[key])}." if key in choices else ""
        value = example.get(key)
        notes.append([columns[key], "oui" if key in required else "non", "" if value is None else str(value),
                      (help_texts.get(key, "") + allowed).strip()])
    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["C"].width = 22
    notes.column_dimensions["D"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
