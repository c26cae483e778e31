"""Payment claims: computation, lifecycle, service-done check, exports (issue 6)."""
from flask import Blueprint

bp = Blueprint("claims", __name__)
