"""Files: a bilan's XLSX, CSV, PDF and evidence pack; the statement's files from its page
(état récapitulatif, primer §9), XLSX, CSV and PDF beside the computed figures, the same
files as ``claims export`` (``report.statement_report``: the bilan of exactly that period
when there is one, else the statement computed)."""
from datetime import date

from flask import Response, abort, current_app, flash, g, redirect, request, url_for

from ...kernel.audit import services as audit
from ...kernel.errors import DomainError
from ...kernel.tabular import cell_date
from .. import exports, pack, pack_stream, pdf
from ..models import Claim
from ..report import statement_report
from . import bp
from .claims import PREFIX, _claim, _refused, _report

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
    operation = g.operation
    if "du" not in request.args and "au" not in request.args:  # the whole eligibility period
        start, end = operation.start_date, operation.end_date
    else:
        start, end = _day("du"), _day("au")
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


def _download(claim: Claim, extension: str, content: bytes, mimetype: str) -> Response:
    report_name = exports.export_filename(_report(claim), extension)
    audit.record("claim_export", "claims", claim.id, after={"format": extension})
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{report_name}"',
    })


@bp.route(PREFIX + "/<int:number>/export.xlsx")
def export_xlsx(number):
    claim = _claim(number)
    return _download(claim, "xlsx", exports.xlsx_bytes(_report(claim)),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route(PREFIX + "/<int:number>/export.csv")
def export_csv(number):
    claim = _claim(number)
    dialect = request.args.get("dialect", "fr")
    if dialect not in exports.CSV_DIALECTS:
        abort(404)
    return _download(claim, "csv", exports.csv_bytes(_report(claim), dialect), "text/csv; charset=utf-8")


@bp.route(PREFIX + "/<int:number>/export.pdf")
def export_pdf(number):
    claim = _claim(number)
    return _download(claim, "pdf", pdf.pdf_bytes(_report(claim)), "application/pdf")


@bp.route(PREFIX + "/<int:number>/dossier-de-preuves.zip")
def evidence_pack(number):
    """The evidence pack, streamed as it is written (memory bounded whatever the documents)."""
    claim = _claim(number)
    try:
        pack.check_packable(claim)
    except DomainError as error:
        _refused(error)
        return redirect(url_for("claims.show", number=number))
    audit.record("claim_pack", "claims", claim.id, after={"format": "zip"})
    return Response(pack_stream.stream_pack(current_app._get_current_object(), claim.id), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{pack.pack_filename(claim)}"',
    })
