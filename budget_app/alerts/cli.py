"""Command line of the alerts domain: `flask --app budget_app <group> ...`."""
from flask.cli import AppGroup

alerts_cli = AppGroup("alerts", help="alerts commands.")
daci_cli = AppGroup("daci", help="daci commands.")

# Registered by budget_app/cli.py.
COMMANDS = [alerts_cli, daci_cli]
