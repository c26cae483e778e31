"""The managing authority's hold on one line, from the line's page (the expense's page, the
staff cost line's row): admins only (``accounts/policy.py``). The same service as
``claims hold``/``claims release`` (``holds``); the reason stays in ``line_holds``."""
from flask import flash, g, redirect, url_for
from flask_babel import gettext as _

from ...kernel.errors import DomainError
from .. import holds
from ..forms import HoldForm
from . import bp

# "expense:12" / "staff_cost_line:7": ASCII digits only, at most 9 (no ``isdigit`` surprise).
ID_DIGITS = 9


def _line(text: str | None) -> tuple[str, int] | None:
    line_type, _sep, number = (text or "").partition(":")
    if line_type not in holds.LINE_MODELS or not number or len(number) > ID_DIGITS \
            or not all("0" <= char <= "9" for char in number):
        return None
    return line_type, int(number)


def _line_page(line: tuple[str, int] | None):
    if line is not None and line[0] == "expense":
        return redirect(url_for("expenses.detail", operation_code=g.operation.code, expense_id=line[1]))
    return redirect(url_for("staff.cost_lines", operation_code=g.operation.code))


@bp.route("/operations/<operation_code>/attente", methods=["POST"])
def hold_line(operation_code=None):
    form = HoldForm()
    line = _line(form.line.data)
    if not form.validate_on_submit() or line is None or form.action.data not in ("hold", "release"):
        flash(_("Demande de mise en attente incomplète : indiquez la ligne et le motif."), "error")
        return _line_page(line)
    try:
        if form.action.data == "hold":
            holds.place_hold(g.operation, *line, form.reason.data)
        else:
            holds.release_hold(g.operation, *line, form.reason.data)
    except DomainError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("Ligne mise en attente.") if form.action.data == "hold" else _("Attente levée."), "success")
    return _line_page(line)
