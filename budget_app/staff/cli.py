"""Command line of the staff domain: `flask --app budget_app <group> ...`."""
from flask.cli import AppGroup

staff_cli = AppGroup("staff", help="staff commands.")
timesheets_cli = AppGroup("timesheets", help="timesheets commands.")

# Registered by budget_app/cli.py.
COMMANDS = [staff_cli, timesheets_cli]
