"""The audit trail read as sentences in the reader's language: « Claire Martin a modifié la
dépense n° 12 » with each change as « Montant HT : 100,00 → 120,00 », instead of
« update · expenses 12 · {"amount_excl_vat": "100.00"} ». The raw record stays one click
away for auditors (the page's « Données »).

A hold reads as a hold (« mise en attente de la ligne … »), whoever placed it: the trail
records a neutral entry (actor « system »), and nothing here tells more."""
import re
from datetime import date

from flask_babel import gettext as _

from ..kernel.formatting import format_day, format_number
from ..kernel.i18n import N_

ACTIONS = {
    "create": N_("création"), "update": N_("modification"), "delete": N_("suppression"),
    "login": N_("connexion"), "logout": N_("déconnexion"), "load": N_("chargement du fichier de l'opération"),
    "approve": N_("approbation"), "submit": N_("dépôt"), "hold": N_("mise en attente"), "release": N_("fin de l'attente"),
    "lock": N_("verrouillage"), "unlock": N_("déverrouillage"), "envelope_attachment": N_("rattachement à une enveloppe"),
    "amendment_requested": N_("avenant demandé"), "amendment_approved": N_("avenant approuvé"),
    "amendment_rejected": N_("avenant refusé"), "claim_export": N_("export du bilan"), "claim_pack": N_("dossier de preuves"),
    "claim_frozen": N_("bilan figé"), "password_changed": N_("mot de passe changé"),
    "second_factor_enabled": N_("double authentification activée"), "second_factor_reset": N_("double authentification retirée"),
    "recovery_code_used": N_("code de secours utilisé"), "retention_purge": N_("purge en fin de conservation"),
    "participant_import": N_("import de participants"), "participants_erased": N_("participants effacés"),
}
OBJECTS = {
    "expenses": N_("la dépense n° %(id)s"), "supporting_documents": N_("la pièce n° %(id)s"),
    "timesheets": N_("la fiche de temps n° %(id)s"), "staff_cost_lines": N_("la ligne de personnel n° %(id)s"),
    "claims": N_("le bilan (identifiant %(id)s)"), "claim_lines": N_("la ligne de bilan n° %(id)s"),
    "operations": N_("l'opération (identifiant %(id)s)"), "users": N_("le compte n° %(id)s"),
    "line_marks": N_("la marque de ligne n° %(id)s"), "envelopes": N_("l'enveloppe (identifiant %(id)s)"),
    "participants": N_("le participant n° %(id)s"),
}
KEYS = {
    "state": N_("État"), "amount_excl_vat": N_("Montant HT"), "vat": N_("TVA"), "amount": N_("Montant"),
    "allocation_percent": N_("Clé d'affectation (%)"), "eligible_amount": N_("Montant présenté"), "label": N_("Libellé"),
    "supplier_name": N_("Fournisseur"), "incurred_on": N_("Date de la pièce"), "paid_on": N_("Date de paiement"),
    "category": N_("Catégorie"), "hours_on_operation": N_("Heures sur l'opération"), "hours_worked": N_("Heures travaillées"),
    "monthly_cost": N_("Coût mensuel"), "envelope": N_("Enveloppe"), "reason": N_("Motif"), "document_number": N_("N° de pièce"),
    "retained_amount": N_("Montant retenu"), "decision": N_("Décision"), "fse_amount": N_("FSE+"), "fse_rate": N_("Taux FSE+"),
    "active": N_("Actif"), "role": N_("Rôle"), "email": N_("Adresse e-mail"), "full_name": N_("Nom"),
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+\.\d+$")
SKIPPED = {"version", "updated_at", "created_at", "password_hash", "setup_token_hash"}


def _value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, str) and _ISO_DAY.match(value):
        return format_day(date.fromisoformat(value))
    if isinstance(value, str) and _NUMBER.match(value):
        return format_number(value, places=len(value.partition(".")[2]))
    return str(value)


def headline(entry, who: str) -> str:
    action = _(ACTIONS[entry.action]) if entry.action in ACTIONS else entry.action.replace("_", " ")
    if entry.object_type in OBJECTS and entry.object_id:
        what = _(OBJECTS[entry.object_type], id=entry.object_id)
    else:
        what = f"{entry.object_type} {entry.object_id or ''}".strip()
    return _("%(who)s : %(action)s, %(what)s", who=who, action=action, what=what)


def changes(entry) -> list[str]:
    """« Montant HT : 100,00 → 120,00 » for each key that changed (or was set, or removed)."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    lines = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in SKIPPED or before.get(key) == after.get(key):
            continue
        label = _(KEYS[key]) if key in KEYS else key.replace("_", " ")
        if key in before and key in after:
            shown = f"{_value(before[key])} → {_value(after[key])}"
        else:
            shown = _value(after.get(key, before.get(key)))
        lines.append(_("%(label)s : %(value)s", label=label, value=shown))
    return lines
