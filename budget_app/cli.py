"""Command-line entry points: ``flask --app budget_app <command>``."""
from importlib import import_module

from .accounts.cli import users_cli
from .main.cli import seed_command

# Domains whose cli.py exposes ``COMMANDS`` (click groups).
CLI_DOMAINS = ("operations", "expenses", "staff", "claims", "alerts")


def register_cli(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_command)
    for domain in CLI_DOMAINS:
        for command in import_module(f"{__package__}.{domain}.cli").COMMANDS:
            app.cli.add_command(command)
