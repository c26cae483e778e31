"""Expenses, supporting documents, duplicate checks and imports (issue 5)."""
from flask import Blueprint

bp = Blueprint("expenses", __name__)
