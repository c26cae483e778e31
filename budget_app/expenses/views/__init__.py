"""Expenses: the lists, one expense and its documents (``lines``), imports with preview
(``imports``). Views load (the operation comes from ``accounts.access``), call a service
and redirect; the request commits once. Every rule is in ``rules`` and ``services``."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...accounts.navigation import register_nav
from ...operations.closure import refuse_when_closed

bp = Blueprint("expenses", __name__)
register_nav("expenses.home", _l("Dépenses"), order=30)
refuse_when_closed(bp, ("create", "edit", "delete", "upload_document", "import_expenses", "confirm_import"))

from . import imports, lines, vat  # noqa: E402,F401  (their routes are on ``bp``)
