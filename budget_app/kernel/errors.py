"""The one shape of a refused operation, and the error pages (never a stack trace).

``DomainError`` carries a message written in French and marked with ``N_``, its values,
and optionally the field it is about and the problems it gathers (an import refuses a
whole file and lists every row). It is translated when shown (``str(error)``), in the
language of whoever reads it: the user's on a page, French on the command line.
"""
import logging
import math
import time
import re
import traceback
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

from flask import current_app, has_request_context, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .dates import format_day
from .extensions import db
from .i18n import N_, current_locale, translate
from .integers import parse_int
from .throttle import Busy, refused_until, release_arrival_slots, remember_refusals, retry_after, take_arrival_slot

log = logging.getLogger("budget_app.errors")


class DomainError(Exception):
    """A refused operation: nothing was written. ``str()`` is the translated message."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None, problems=(), **values):
        # ``problems``: DomainErrors or ``Problem``s, each shown on its own line.
        self.message = message
        self.values = values
        self.field = field
        self.problems = list(problems)
        super().__init__(message % values if values and message else message)

    def __str__(self) -> str:
        if self.message:
            return translate(self.message, **{key: _shown(value) for key, value in self.values.items()})
        return "\n".join(str(problem) for problem in self.problems)

    def lines(self) -> list[str]:
        """Every problem as one line (the message first when there is one)."""
        if not self.problems:
            return [str(self)]
        return ([str(self)] if self.message else []) + [str(problem) for problem in self.problems]


class ForReader(DomainError):
    """A message value that reads one way on a page and another on the command line, where
    the person edits the operation's file: « cochez « La convention fixe ce montant » » on
    the form, « fse_amount_fixed = true » for the file; a category's label on a page, its code
    (the file's value) on the command line."""

    def __init__(self, page: str, file: str, **values):
        super().__init__(page, **values)
        self.file = file

    def __str__(self) -> str:
        if has_request_context():
            return super().__str__()
        return translate(self.file, **{key: _shown(value) for key, value in self.values.items()})


def label_value(labels: dict, code):
    """A code's label as a message value, translated when shown (« INDIRECTS_15 » reads
    « Coûts indirects, taux forfaitaire plafonné à 15 %… » on a page, stays « INDIRECTS_15 »
    on the command line: the file's value); an unknown code stays as typed.
    ``labels`` maps codes to a label or to a tuple whose first item is the label."""
    entry = labels.get(code) if isinstance(code, str) else None
    if entry is None:
        return code
    return ForReader(entry[0] if isinstance(entry, tuple) else entry, code)


class Conflict(DomainError):
    """Someone else changed the same thing first: nothing was written, reload and retry."""

    status = 409


def seen_version(text) -> int:
    """The version a write was based on (optimistic locking cannot be skipped): a form
    that does not carry it is refused (400, nothing written)."""
    number = parse_int(text) if isinstance(text, str) else None
    if number is None:
        raise DomainError(N_("Version manquante : rechargez la page puis recommencez (rien n'a été enregistré)."))
    return number


def _shown(value):
    # Values may be lazy strings, nested errors or days: shown in the reader's language
    # (a day as the reader's pages show it, whoever raised the error and when).
    if isinstance(value, DomainError):
        return str(value)
    if isinstance(value, date):
        return format_day(value)
    return value


# What a person reads for a field's path (« envelope.code » -> « Code de l'enveloppe »),
# registered by each domain for the paths of its rules (``register_field_labels``). A path
# stays as it is on the command line, where it names the key of the file being loaded.
FIELD_LABELS: dict[str, str] = {}
_INDEX = re.compile(r"\[(\d+)\]")


def register_field_labels(labels: dict[str, str]) -> None:
    FIELD_LABELS.update(labels)


def field_label(path: str) -> str:
    """The label of a field's path in the reader's language; « plan.costs[3].category »
    reads « Ligne de coût 3 : catégorie » (its row's number kept)."""
    if not has_request_context():
        return path
    numbers = _INDEX.findall(path)
    key = _INDEX.sub("[]", path)
    if key not in FIELD_LABELS:
        return path if "." not in path and "[" not in path else translate(N_("champ « %(name)s »"), name=path.rsplit(".", 1)[-1])
    return translate(FIELD_LABELS[key], number=numbers[0] if numbers else "")


@dataclass
class Problem:
    """One problem of a form, a plan or an import row: where (field, or file line and
    column) and what (a ``DomainError``, translated when shown; or a text already in the
    reader's language)."""

    error: DomainError | str
    field: str | None = None
    line: int | None = None
    column: str | None = None

    @property
    def message(self) -> str:
        return str(self.error)

    def __str__(self) -> str:
        text = str(self.error)
        if self.line is None:
            return f"{field_label(self.field)} : {text}" if self.field else text
        if self.column is None:
            return translate(N_("ligne %(line)s : %(text)s"), line=self.line, text=text)
        return translate(N_("ligne %(line)s, colonne %(column)s : %(text)s"), line=self.line, column=self.column, text=text)


ERROR_TEXTS = {
    400: (_l("Requête invalide"), _l("La requête n'a pas pu être comprise. Revenez à la page précédente et réessayez.")),
    403: (_l("Accès refusé"), _l("Votre rôle ne permet pas d'accéder à cette page.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou vous n'y avez pas accès.")),
    405: (_l("Méthode non permise"), _l("Cette page ne peut pas être utilisée de cette façon.")),
    409: (
        _l("Modification concurrente"),
        _l("Quelqu'un d'autre vient de modifier ces données : rien n'a été enregistré. Rechargez la page."),
    ),
    413: (
        _l("Fichier trop volumineux"),
        _l("Le fichier ou le formulaire envoyé dépasse la taille maximale autorisée (%(limit)s Mo)."),
    ),
    429: (_l("Trop de tentatives"), _l("Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez.")),
    500: (_l("Erreur interne"), _l("Une erreur inattendue s'est produite. Rien n'a été enregistré ; réessayez ou contactez l'administrateur.")),
}


def render_error(code: int, message=None):
    title, default = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    if message is None:
        limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        message = str(default).replace("%(limit)s", str(limit_mb))
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _retry_line(seconds: int) -> str:
    # Paris time, as every time shown (formatting.local_time; imported here it would loop back).
    retry_at = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])) + timedelta(seconds=seconds)
    return translate(N_("Vous pourrez réessayer à %(time)s (dans %(minutes)s min)."),
                     time=retry_at.strftime("%H:%M"), minutes=max(1, -(-seconds // 60)))


def throttled(error):
    """429 at once, never a delay inside the worker: the limit's own message (login, public
    form...), when to try again (Paris time) and ``Retry-After`` in seconds (issue 21)."""
    seconds = getattr(error, "retry_seconds", None) or retry_after()
    message = getattr(getattr(error, "limit", None), "error_message", None)
    if isinstance(error, Busy):
        message = error.description
    else:
        remember_refusals(message)
    title, default = ERROR_TEXTS[429]
    body = render_template("errors/error.html", code=429, title=title, message=str(message) if message else default,
                           retry=_retry_line(seconds))
    return body, 429, {"Retry-After": str(seconds)}


def refuse_already_throttled():
    """before_request, first of all: a key a limit of this endpoint refused is refused again
    until its window ends (``throttle.refuse_early``), and a request whose costly check has
    no free slot is refused at once (``throttle.slot_on_arrival``), each on a page without
    the layout."""
    refused = refused_until()
    if refused is not None:
        until, message = refused
        return _refusal(max(1, math.ceil(until - time.time())), message)
    busy = take_arrival_slot()
    if busy is not None:
        return _refusal(Busy.retry_seconds, busy)
    return None


def _refusal(seconds: int, message):
    title, default = ERROR_TEXTS[429]
    # The same page for everyone refused in the same minute, in one language: made once.
    body = _refusal_page(current_locale(), str(title), str(message) if message else str(default), _retry_line(seconds))
    return body, 429, {"Retry-After": str(seconds)}


@lru_cache(maxsize=256)
def _refusal_page(locale: str, title: str, message: str, retry: str) -> str:
    return render_template("errors/throttled.html", lang=locale, title=title, message=message, retry=retry)


def register_error_handlers(app):
    # Before every other hook (the limiter's included): refusals already decided (issue 21).
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_already_throttled)
    app.teardown_request(release_arrival_slots)
    # An exception that escapes a view rolls the whole request back (kernel/transactions.py:
    # the after_request commit then has nothing left to write), whatever it answers.
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_error(
            400, _l("Le formulaire a expiré ou n'est pas valide. Rechargez la page et saisissez-le à nouveau.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        db.session.rollback()
        if error.code == 429:
            return throttled(error)
        if error.code in ERROR_TEXTS:
            return render_error(error.code)
        return error

    @app.errorhandler(DomainError)
    def domain_error(error):
        # A refusal no view caught: its message, never a stack trace; nothing is committed.
        db.session.rollback()
        return render_error(error.status if error.status in ERROR_TEXTS else 400, str(error))

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        # The exception's type and where it was raised, never its message: messages quote
        # the values that failed (a field's text, an alert's contents).
        log.error("event=unhandled_error type=%s where=%s", type(error).__name__, _where(error))
        return render_error(500)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "budget_app" in frame.filename]
    shown = (ours[-4:] if ours else []) + frames[-2:]
    return " < ".join(f"{Path(frame.filename).name}:{frame.lineno}:{frame.name}" for frame in reversed(shown))
