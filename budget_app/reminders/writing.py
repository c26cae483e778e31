"""A digest's subject and plain-text body in its reader's language.

A run writes many digests that share items: each item's line and link is written once per
language, the headings and the footer too; the catalogue of each language is looked up
once (no switch of locale per mail, only when a language's line is first written).
"""
from contextlib import nullcontext
from datetime import date

from flask import current_app, url_for
from flask_babel import force_locale, get_translations

from ..kernel.formatting import format_day
from ..kernel.i18n import N_, translate
from .digest import SECTIONS, Digest
from .items import Item, describe

SUBJECT = N_("[Suivi FSE+] À faire : %(overdue)s en retard, %(soon)s bientôt, %(new)s nouveau(x)")
GREETING = N_("Bonjour %(name)s,")
HEADING = N_("%(title)s :")  # a section's title (French puts a space before the colon, English none)
DUE_LINE = N_("- %(text)s (échéance : %(due)s)")
ORDER = tuple(key for key, _title in SECTIONS)
FOOTER = N_("Votre liste complète et vos préférences de rappel : %(url)s")


def mail_context():
    """One request context for a whole run, so that links are built on BUDGET_APP_BASE_URL."""
    return current_app.test_request_context("/", base_url=current_app.config["BUDGET_APP_BASE_URL"])


def _item_lines(item: Item, gettext, locale: str, link: str) -> str:
    """The item's line and link, inside ``force_locale(locale)`` (``gettext``: its catalogue)."""
    if "%(due)s" in item.text:
        text = f"- {describe(item, gettext, locale)}"
    else:
        text = gettext(DUE_LINE) % {"text": describe(item, gettext, locale), "due": format_day(item.due, locale)}
    return f"{text}\n  {link}"


class Writer:
    """Writes the digests of one run (one ``Plan``: an item is known by its rank in it), inside ``mail_context``."""

    def __init__(self):
        self.languages: dict[str, tuple] = {}  # locale -> (gettext, headings, footer)
        self.lines: dict[str, dict] = {}  # locale -> item's rank (Announcement.rank) -> its line and link
        self.links: dict[tuple, str] = {}  # (endpoint, its values) -> the link (the same in every language)

    def _language(self, locale: str):
        found = self.languages.get(locale)
        if found is None:
            with force_locale(locale):
                gettext = get_translations().ugettext
                headings = {key: gettext(HEADING) % {"title": translate(title)} for key, title in SECTIONS}
                footer = translate(FOOTER, url=url_for("reminders.todo", _external=True))
                found = self.languages[locale] = (gettext, gettext(SUBJECT), gettext(GREETING), headings, footer)
        return found

    def _link(self, item: Item) -> str:
        key = (item.endpoint, tuple(sorted(item.url_values.items())))
        found = self.links.get(key)
        if found is None:
            found = self.links[key] = url_for(item.endpoint, _external=True, **item.url_values)
        return found

    def render(self, digest: Digest, today: date) -> tuple[str, str]:
        """Subject and body (``today``: kept for the signature of a digest's rendering)."""
        locale = digest.user.locale or "fr"
        gettext, subject, greeting, headings, footer = self._language(locale)
        lines = self.lines.setdefault(locale, {})
        by_section = {key: [] for key in ORDER}
        missing = []
        for announcement in digest.announcements:
            by_section[announcement.threshold].append(announcement.rank)
            if announcement.rank not in lines:
                missing.append(announcement)
        if missing:
            # The reader's catalogue and language are at hand; only a bilan's name is
            # written by its domain's own function (claims.bilans.bilan_label), in the locale.
            with force_locale(locale) if any("bilan" in a.item.values for a in missing) else nullcontext():
                for announcement in missing:
                    lines[announcement.rank] = _item_lines(announcement.item, gettext, locale,
                                                           self._link(announcement.item))
        parts = [greeting % {"name": digest.user.full_name or digest.user.email}, ""]
        for key in ORDER:
            chosen = by_section[key]
            if chosen:
                chosen.sort()  # by due date, then key (the rank's order)
                parts.append(headings[key])
                parts.extend([lines[rank] for rank in chosen])
                parts.append("")
        parts.append(footer)
        counts = {key: len(chosen) for key, chosen in by_section.items()}
        return subject % counts, "\n".join(parts) + "\n"
