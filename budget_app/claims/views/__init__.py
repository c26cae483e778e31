"""Claims (``claims``) and the register of conflict-of-interest declarations of the
people who check them (``daci``)."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...accounts.navigation import register_nav

bp = Blueprint("claims", __name__)
register_nav("claims.overview", _l("Bilans"), 30)
register_nav("claims.daci_register", _l("Registre DACI"), 80)

from . import claims, daci, holds, sampling, statements  # noqa: E402,F401  (their routes are on ``bp``)
