"""Forms of the units pages: fields only read what was typed; the rules live in
``services`` and ``operations.unit_lines`` (one place for the page and the command)."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from ..kernel.forms import FlaskForm
from ..kernel.i18n import translate
from ..operations.models import COST_CATEGORIES
from ..operations.unit_lines import UNIT_LINE_KINDS


class UnitLineForm(FlaskForm):
    kind = SelectField(_l("Type"), validate_choice=False)
    year = StringField(_l("Année"))
    category = SelectField(_l("Catégorie"), validate_choice=False)
    label = StringField(_l("Unité ou livrable"), validators=[Length(max=255)])
    rate = StringField(_l("Montant par unité ou montant forfaitaire"), render_kw={"inputmode": "decimal"})
    planned_units = StringField(_l("Unités prévues (coût unitaire)"), render_kw={"inputmode": "decimal"})
    evidence_required = TextAreaField(_l("Preuve exigée"))
    in_flat_rate_base = BooleanField(_l("Dans l'assiette des taux forfaitaires"))
    counted_from_participants = BooleanField(_l("Unité « participant ayant achevé le parcours », comptée à partir des participants"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(code, translate(label)) for code, label in UNIT_LINE_KINDS.items()]
        self.category.choices = [(code, translate(label)) for code, label in COST_CATEGORIES.items()]


class UnitRecordForm(FlaskForm):
    plan_line = SelectField(_l("Ligne du plan"), validate_choice=False)
    delivered_on = StringField(_l("Date de réalisation"), render_kw={"type": "date"})
    period_start = StringField(_l("Début de la période (participants ayant achevé le parcours)"),
                               render_kw={"type": "date"})
    quantity = StringField(_l("Unités réalisées (coût unitaire)"), render_kw={"inputmode": "decimal"})
    achieved = SelectField(_l("Livrable réalisé (montant forfaitaire)"), validate_choice=False)
    description = StringField(_l("Ce qui a été réalisé"), validators=[Length(max=500)])
    evidence = FileField(_l("Preuve de réalisation"))

    def __init__(self, lines=(), *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan_line.choices = [(str(line.id), f"{line.year} — {line.label}") for line in lines]
        self.achieved.choices = [("", "—"), ("yes", translate(_l("oui"))), ("no", translate(_l("non")))]


class EvidenceForm(FlaskForm):
    evidence = FileField(_l("Preuve de réalisation"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Motif du retrait"), validators=[Length(max=500)])


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier des relevés (XLSX ou CSV)"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    # The language the preview read the file's numbers and days in: the confirmation reads
    # them the same way, whatever the page's language has become meanwhile.
    language = HiddenField()
