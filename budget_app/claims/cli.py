"""Command line of the claims domain: `flask --app budget_app <group> ...`."""
from flask.cli import AppGroup

claims_cli = AppGroup("claims", help="claims commands.")

# Registered by budget_app/cli.py.
COMMANDS = [claims_cli]
