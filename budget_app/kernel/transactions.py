"""One commit per request or command; a service that fails leaves nothing behind.

- Services only flush. A service that writes in several steps is ``@atomic``: it runs in a
  savepoint, so an error half-way rolls its writes back whatever the caller does next.
- Web requests: ``commit_or_rollback`` (an ``after_request`` hook) commits once when the
  response is a success or a redirect, and rolls back otherwise (a form shown again with
  its errors answers 4xx: nothing it tried is kept).
- CLI commands: ``command_transaction`` commits once at the end; a ``DomainError`` prints
  ``Erreur : …`` lines, writes nothing and exits with 1.
"""
import functools
import sys

import click

from .errors import DomainError
from .extensions import db


def atomic(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with db.session.begin_nested():
            return function(*args, **kwargs)

    return wrapper


def commit_or_rollback(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def fail(lines) -> None:
    """Print each line as ``Erreur : …``, roll back and exit with 1 (CLI)."""
    db.session.rollback()
    for line in lines:
        click.echo(f"Erreur : {line}", err=True)
    sys.exit(1)


def command_transaction(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
        except DomainError as error:
            fail(error.lines())
        db.session.commit()
        return result

    return wrapper
