"""One commit per request or command; a service that fails leaves nothing behind.

- Services only flush. A service that writes in several steps is ``@atomic``: it runs in a
  savepoint, so an error half-way rolls its writes back whatever the caller does next.
- Web requests (Indico's ``RH.process``): ``commit_request`` (an ``after_request`` hook)
  commits once, whatever the status code, unless an exception escaped the view: then the
  error handlers (``kernel/errors.py``) have already rolled the whole request back.
- A view that shows a refusal itself (a form shown again, a message then a redirect) calls
  the service inside ``attempt()``: the service runs in a savepoint, and a ``DomainError``
  (or a version conflict) that escapes it rolls back to that savepoint, so nothing the
  service wrote before failing is kept, and no view rolls back by hand.
- CLI commands: ``command_transaction`` commits once at the end; a ``DomainError`` prints
  ``Erreur : …`` lines, writes nothing and exits with 1.
"""
import functools
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import click
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict, DomainError
from .extensions import db
from .i18n import N_


def atomic(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with db.session.begin_nested():
            return function(*args, **kwargs)

    return wrapper


def commit_request(response):
    """after_request: the one commit of a request. An escaping exception never gets here
    with anything pending: its error handler rolled back first."""
    db.session.commit()
    return response


def abandon_request() -> None:
    """An exception escaped the view (any 4xx/5xx error page): nothing of the request is kept."""
    db.session.rollback()


@dataclass
class Attempt:
    """What ``attempt()`` saw: the refusal, or None when the service succeeded."""

    error: DomainError | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None


# A version conflict found at flush time (optimistic locking) reads like any other conflict.
STALE = N_("Cet enregistrement a été modifié entre-temps par quelqu'un d'autre ; rechargez la page.")


@contextmanager
def attempt():
    """Run the body (a service call) in a savepoint, for a view that shows the refusal itself::

        with attempt() as outcome:
            record_declaration(...)
        if outcome.refused:
            form.errors... = [str(outcome.error)]

    A ``DomainError`` escaping the body rolls back to the savepoint (whatever the service
    wrote before failing is gone) and is kept in ``outcome.error``; so is a flush that finds
    the record changed by someone else (``StaleDataError``, as a ``Conflict``). Any other
    exception rolls back the savepoint and escapes (the request is then rolled back)."""
    outcome = Attempt()
    try:
        with db.session.begin_nested():
            yield outcome
    except DomainError as error:
        outcome.error = error
    except StaleDataError:
        outcome.error = Conflict(STALE)


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
