"""Fraud and conflict-of-interest alerts, DACI register (issue 7)."""
from flask import Blueprint

bp = Blueprint("alerts", __name__)
