"""Translation helpers, one set for the whole application.

French is the source language: every message is written in French and marked with
``N_`` (module constants, messages of ``DomainError``) or ``_l``/``lazy_gettext`` (form
labels); it is translated when shown, in the user's language (``translate``). Outside a
request (CLI commands) the default language, French, is used.
"""
from babel import Locale
from flask import current_app, has_app_context, has_request_context
from flask_babel import get_locale, gettext


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when shown."""
    return message


def translate(message: str, **values) -> str:
    """The message in the user's language, with its values (flask_babel falls back to the
    French source outside an application context)."""
    return gettext(message, **values)


def translate_label(labels: dict, code):
    """The translated label of a code (state, category, role...), or the code itself."""
    return translate(labels[code]) if code in labels else code


def current_locale() -> str:
    """"fr" or "en": the user's language in a request, else the default language."""
    if has_request_context():
        return str(get_locale() or "fr")
    if has_app_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    return "fr"


_LOCALES: dict[str, Locale] = {}


def babel_locale(locale: "str | Locale | None" = None) -> Locale:
    """The Babel locale of a language code ("fr", "en"), or of the reader's language: the
    object itself, parsed once (Babel parses a code again at every call it is given)."""
    if isinstance(locale, Locale):
        return locale
    if locale is None:
        found = get_locale() if has_request_context() else None
        if found is not None:
            return found
        locale = current_locale()
    found = _LOCALES.get(locale)
    if found is None:
        found = _LOCALES.setdefault(locale, Locale.parse(locale))
    return found
