"""Operations, financing plans and intermediate-body envelopes (issue 4)."""
from flask import Blueprint

bp = Blueprint("operations", __name__)
