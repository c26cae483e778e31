"""Supporting documents: checked by content, stored under random names, downloaded as
attachments by users allowed on the operation only."""
import io
import zipfile

import pytest

from budget_app.kernel.errors import DomainError
from budget_app.kernel.uploads import ODS, PDF, PNG, XLSX, check_document

from .conftest import JPEG_BYTES, PDF_BYTES, PNG_BYTES


def xlsx_bytes(macro=False):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        kind = "application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
        archive.writestr("[Content_Types].xml", f'<Types><Override PartName="/xl/workbook.xml" ContentType="{kind}"/></Types>')
        archive.writestr("xl/workbook.xml", "<workbook/>")
        if macro:
            archive.writestr("xl/vbaProject.bin", b"\x00")
    return buffer.getvalue()


def ods_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, data, expected",
    [("facture.pdf", PDF_BYTES, PDF), ("scan.PNG", PNG_BYTES, PNG), ("photo.jpeg", JPEG_BYTES, "image/jpeg"),
     ("tableau.xlsx", None, XLSX), ("tableau.ods", None, ODS)],
)
def test_accepted_types(app, name, data, expected):
    data = data or (xlsx_bytes() if name.endswith("xlsx") else ods_bytes())
    content_type, sha256 = check_document(name, data)
    assert content_type == expected
    assert len(sha256) == 64


@pytest.mark.parametrize(
    "name, data",
    [
        ("facture.png", PDF_BYTES),  # a PDF renamed .png
        ("facture.pdf", b"<html><script>alert(1)</script></html>"),  # HTML renamed .pdf
        ("macro.xlsx", None),  # an .xlsm renamed .xlsx
        ("facture.exe", PDF_BYTES),
        ("vide.pdf", b""),
        ("faux.xlsx", b"PK\x03\x04garbage"),
    ],
)
def test_refused_types(app, name, data):
    with pytest.raises(DomainError):
        check_document(name, data if data is not None else xlsx_bytes(macro=True))


def test_size_limit(app):
    app.config["UPLOAD_MAX_BYTES"] = 100
    with pytest.raises(DomainError, match="taille maximale"):
        check_document("facture.pdf", PDF_BYTES + b" " * 100)
