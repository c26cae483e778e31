"""Flask-Migrate (and with it alembic: about 0.25 s and 12 MB at import) is bound to the app
only when a ``flask db`` command runs (``AppCommands``) or a caller asks for it (``bind``),
not in every web worker and every other command."""
import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .config import PROJECT_ROOT
from .extensions import db

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
COMMAND = "db"


def bind(app: Flask) -> None:
    """Flask-Migrate's extension and ``db`` commands on ``app`` (once)."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate().init_app(app, db, directory=str(MIGRATIONS_DIR), command=COMMAND, render_as_batch=True,
                       compare_type=True)


class LazyDbGroup(click.Group):
    """``flask db`` as listed by ``flask --help`` (its one-line help only, Flask-Migrate not
    imported), bound to the app when one of its sub-commands is asked for (issue 27: the
    command line's start)."""

    def __init__(self):
        super().__init__(COMMAND, help="Perform database migrations.")

    def _real(self) -> click.Group:
        app = current_app._get_current_object()
        bind(app)
        return app.cli.commands[COMMAND]

    def make_context(self, info_name, args, parent=None, **extra):
        """Run as Flask-Migrate's own group (its options, its sub-commands)."""
        return self._real().make_context(info_name, args, parent=parent, **extra)


class AppCommands(AppGroup):
    """The application's command group: ``db`` is listed from the start and bound on first use."""

    def list_commands(self, ctx) -> list[str]:
        return sorted({*super().list_commands(ctx), COMMAND})

    def get_command(self, ctx, name: str):
        if name == COMMAND and name not in self.commands:
            return LazyDbGroup()
        return super().get_command(ctx, name)
