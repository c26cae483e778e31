"""Command line of the operations domain: `flask --app budget_app <group> ...`."""
from flask.cli import AppGroup

operations_cli = AppGroup("operations", help="operations commands.")

# Registered by budget_app/cli.py.
COMMANDS = [operations_cli]
