"""Staff, hourly rates, fixed shares and timesheets (issue 5)."""
from flask import Blueprint

bp = Blueprint("staff", __name__)
