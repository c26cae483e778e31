"""Command line of the expenses domain: `flask --app budget_app <group> ...`."""
from flask.cli import AppGroup

expenses_cli = AppGroup("expenses", help="expenses commands.")

# Registered by budget_app/cli.py.
COMMANDS = [expenses_cli]
