"""The statement's files from its page (état récapitulatif, primer §9): XLSX, CSV and PDF
beside the computed figures, the same files as ``claims export`` (``report.statement_report``:
the bilan of exactly that period when there is one, else the statement computed)."""
from datetime import date

from flask import Response, abort, flash, g, redirect, request, url_for

from ...kernel.audit import services as audit
from ...kernel.errors import DomainError
from ...kernel.tabular import cell_date
from .. import exports, pdf
from ..report import statement_report
from . import bp
from .claims import PREFIX

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def _day(name: str) -> date:
    try:
        value = cell_date(request.args.get(name, ""))
    except DomainError:
        value = None
    if value is None or not 1900 <= value.year <= 2199:
        abort(400)
    return value


@bp.route(PREFIX + "/etat.<fmt>")
def statement_export(fmt):
    if fmt not in FORMATS:
        abort(404)
    dialect = request.args.get("dialect", "fr")
    if dialect not in exports.CSV_DIALECTS:
        abort(404)
    operation, start, end = g.operation, _day("du"), _day("au")
    try:
        report = statement_report(operation, start, end)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("claims.index"))
    if fmt == "xlsx":
        content = exports.xlsx_bytes(report)
    elif fmt == "csv":
        content = exports.csv_bytes(report, dialect)
    else:
        content = pdf.pdf_bytes(report)
    # The same trail as the command line's export.
    audit.record("claim_export", "operations", operation.id, after={
        "format": fmt, "start": start, "end": end, "claim": getattr(report.claim, "number", None),
        "total": report.figures.total, "file": exports.export_filename(report, fmt),
    })
    return Response(content, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{exports.export_filename(report, fmt)}"',
        "Cache-Control": "no-store",
    })

