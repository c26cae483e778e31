"""The referent's log read as sentences, in the reader's language, with people's names:
« Claire Martin a fait passer le signalement de « Reçu » à « Transmis » (destinataire : OLAF) »
rather than « user:4 · transition · from_state : received · transmitted_to : olaf ».

Only the referents' pages show it (alerts stay invisible elsewhere)."""
from flask_babel import gettext as _

from ..accounts.models import User
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_money
from ..kernel.i18n import N_, translate_label
from .models import RECIPIENT_LABELS, STATE_LABELS

LINE_TYPE_WORDS = {"expense": N_("la dépense n° %(id)s"), "staff_cost_line": N_("la ligne de personnel n° %(id)s")}
AUTHOR_WORDS = {"referent": N_("un référent"), "reporter": N_("l'auteur du signalement")}


def names_of(entries) -> dict[int, str]:
    """user id -> the name a reader knows them by (full name, else e-mail)."""
    ids = {entry.user_id for entry in entries if entry.user_id} | {
        value for entry in entries for key, value in (entry.details or {}).items()
        if key in ("referent", "account") and isinstance(value, int)}
    if not ids:
        return {}
    return {user.id: user.display_name for user in db.session.scalars(db.select(User).where(User.id.in_(ids)))}


def actor_name(entry, names: dict) -> str:
    if entry.user_id and entry.user_id in names:
        return names[entry.user_id]
    return {"public": _("le formulaire public"), "cli": _("une commande du serveur")}.get(
        entry.actor, _("un compte supprimé"))


def _state(code) -> str:
    return translate_label(STATE_LABELS, code) if code else "—"


def _day(value) -> str:
    try:
        from datetime import date
        return format_day(date.fromisoformat(value)) if isinstance(value, str) else format_day(value)
    except ValueError:
        return str(value)


def _amount(value) -> str:
    return format_money(value) if value not in (None, "") else _("non indiqué")


def sentence(entry, names: dict) -> str:
    """One event of the log as a sentence (an unknown action: its name and details, never lost)."""
    details = entry.details or {}
    who = actor_name(entry, names)
    person = lambda key: names.get(details.get(key), _("un compte supprimé"))  # noqa: E731
    action = entry.action
    if action == "transition":
        text = _("%(who)s a fait passer le signalement de « %(before)s » à « %(after)s »", who=who,
                 before=_state(details.get("from_state")), after=_state(details.get("to_state")))
        if details.get("transmitted_to"):
            text += _(" (destinataire : %(to)s)", to=translate_label(RECIPIENT_LABELS, details["transmitted_to"]))
        if details.get("on"):
            text += _(", à la date du %(day)s", day=_day(details["on"]))
        return text + "."
    if action == "received":
        return _("Signalement reçu par %(who)s.", who=who)
    if action == "message":
        return _("%(who)s a écrit un message (auteur : %(author)s).", who=who,
                 author=_(AUTHOR_WORDS.get(details.get("author"), N_("un référent"))))
    if action == "operation_linked":
        return _("%(who)s a rattaché le signalement à une opération.", who=who)
    if action in ("suspicion_set", "suspicion_lifted"):
        line = _(LINE_TYPE_WORDS.get(details.get("line_type"), N_("la ligne n° %(id)s")), id=details.get("line_id"))
        return (_("%(who)s a mis %(line)s en suspicion : elle attend, hors de tout nouveau bilan.", who=who, line=line)
                if action == "suspicion_set" else _("%(who)s a levé la suspicion sur %(line)s.", who=who, line=line))
    if action == "transmission_form":
        return _("%(who)s a complété la fiche de transmission (montant concerné : %(amount)s ; dont UE : %(eu)s).",
                 who=who, amount=_amount(details.get("amount")), eu=_amount(details.get("eu_amount")))
    if action == "purged":
        return _("Contenu effacé en fin de conservation (clos le %(day)s).", day=_day(details.get("closed_on")))
    if action == "access_granted":
        return _("%(who)s a donné l'accès aux signalements à %(referent)s.", who=who, referent=person("referent"))
    if action == "access_received":
        return _("%(referent)s a reçu l'accès aux signalements.", referent=person("referent"))
    if action == "access_lost":
        return _("%(referent)s n'a plus accès aux signalements.", referent=person("referent"))
    if action == "access_recovered":
        return _("L'accès de %(referent)s aux signalements a été rétabli par la clé de secours.", referent=person("referent"))
    if action == "recovery_key_created":
        return _("%(who)s a créé la clé de secours.", who=who)
    if action == "key_rotated":
        return _("%(who)s a renouvelé la clé des signalements.", who=who)
    if action.startswith("account_"):
        return _("Compte de %(account)s : %(event)s (par %(who)s).", account=person("account"),
                 event=action.removeprefix("account_"), who=who)
    shown = " · ".join(f"{key} : {value}" for key, value in details.items())
    return f"{who} — {action}" + (f" ({shown})" if shown else "")
