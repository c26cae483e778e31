"""The operation's VAT recovery pro-rata per year (partial VAT recovery, ``expenses.vat``):
listed for the operation's readers, set by a finance officer."""
from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ...accounts.policy import may
from ...kernel.errors import DomainError
from ...kernel.formatting import format_percent
from ...kernel.integers import parse_int
from ...kernel.money import parse_decimal
from ...kernel.transactions import attempt
from ..forms import VatProrataForm
from ..vat import prorata_rows, set_vat_prorata
from . import bp


@bp.route("/operations/<operation_code>/depenses/prorata-tva", methods=["GET", "POST"])
def vat_prorata():
    operation = g.operation
    form = VatProrataForm()
    if form.validate_on_submit():  # a POST reaches here for a finance officer only (policy)
        year = parse_int((form.year.data or "").strip())
        try:
            percent = parse_decimal((form.percent.data or "").strip().rstrip("%").strip(), places=4)
        except DomainError as error:
            form.percent.errors = [str(error)]
        else:
            with attempt() as outcome:
                result = set_vat_prorata(operation, year, percent)
            if outcome.refused:
                field = getattr(form, outcome.error.field or "", None) or form.percent
                field.errors = [str(outcome.error)]
            else:
                flash(_("Prorata de TVA %(year)s : %(percent)s ; %(recomputed)s dépense(s) recalculée(s), %(kept)s déclarée(s) ou en attente inchangée(s).",
                        year=result.year, percent=format_percent(result.percent, places=None),
                        recomputed=result.recomputed, kept=result.kept), "success")
                return redirect(url_for("expenses.vat_prorata"))
    return render_template("expenses/vat_prorata.html", operation=operation, form=form, rows=prorata_rows(operation),
                           may_write=may("expenses.vat_prorata", "POST"))
