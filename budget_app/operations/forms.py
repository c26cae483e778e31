"""Forms of the operations domain. Amounts and rates are typed as text in French format and
parsed by money.py; the rules are checked by services.py (the same as for files and the CLI)."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..kernel.forms import FlaskForm
from .models import (
    ADVANCE_RECOVERY,
    COST_CATEGORIES,
    FLAT_RATES,
    OPERATION_STATUSES,
    ORGANISATION_KINDS,
    RESOURCE_KINDS,
)

COST_ROWS = 10
RESOURCE_ROWS = 6
EXTRA_ROWS = 3


def _choices(mapping, blank=True):
    choices = [SelectChoice(key, _l(label)) for key, label in mapping.items()]
    return ([SelectChoice("", "—")] if blank else []) + choices


class CostRowForm(Form):
    category = SelectField(_l("Catégorie"), choices=_choices(COST_CATEGORIES), validate_choice=False)
    year = StringField(_l("Année"), validators=[Optional(), Length(max=4)])
    amount = StringField(_l("Montant"), validators=[Optional(), Length(max=40)])


class ResourceRowForm(Form):
    kind = SelectField(_l("Type"), choices=_choices(RESOURCE_KINDS), validate_choice=False)
    name = StringField(_l("Financeur"), validators=[Optional(), Length(max=255)])
    amount = StringField(_l("Montant"), validators=[Optional(), Length(max=40)])


class FlatRatesForm(Form):
    """One optional rate per flat-rate option; left empty when not chosen."""


for _code in FLAT_RATES:
    setattr(FlatRatesForm, _code, StringField(_code, validators=[Optional(), Length(max=12)]))


class PlanFields:
    costs = FieldList(FormField(CostRowForm), min_entries=COST_ROWS, max_entries=60)
    flat_rates = FormField(FlatRatesForm)
    resources = FieldList(FormField(ResourceRowForm), min_entries=RESOURCE_ROWS, max_entries=30)


class OperationForm(PlanFields, FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=32)])
    title = StringField(_l("Intitulé"), validators=[Length(max=500)])
    service = StringField(_l("Service en charge"), validators=[Optional(), Length(max=255)])
    organisation_id = SelectField(_l("Bénéficiaire existant"), choices=[], validate_choice=False)
    organisation_name = StringField(_l("ou nouveau bénéficiaire : nom"), validators=[Optional(), Length(max=255)])
    organisation_kind = SelectField(_l("Type"), choices=_choices(ORGANISATION_KINDS, blank=False), validate_choice=False)
    organisation_siret = StringField(_l("SIRET"), validators=[Optional(), Length(max=20)])
    organisation_address = StringField(_l("Adresse"), validators=[Optional(), Length(max=500)])
    envelope_id = SelectField(_l("Enveloppe d'organisme intermédiaire"), choices=[], validate_choice=False)
    start_date = DateField(_l("Début de la période d'éligibilité"), validators=[Optional()])
    end_date = DateField(_l("Fin de la période d'éligibilité"), validators=[Optional()])
    fse_rate = StringField(_l("Taux FSE+ (%)"), validators=[Length(max=12)])
    fse_amount = StringField(_l("Montant FSE+ conventionné"), validators=[Length(max=40)])
    fse_amount_fixed = BooleanField(_l("La convention fixe ce montant (taux appliqué = FSE+ / coût total)"))
    advance_rate = StringField(_l("Taux d'avance (pourcentage du FSE+)"), default="0", validators=[Length(max=12)])
    advance_override = BooleanField(_l("Avance prévue par la convention malgré le type de bénéficiaire"))
    advance_override_reason = StringField(_l("Clause de la convention prévoyant l'avance"),
                                          validators=[Optional(), Length(max=2000)])
    advance_recovery = SelectField(_l("Récupération de l'avance"), choices=_choices(ADVANCE_RECOVERY, blank=False),
                                   validate_choice=False)
    payment_deadline = DateField(_l("Date limite d'acquittement (par défaut : fin + 6 mois)"), validators=[Optional()])
    salary_pay_delay = StringField(_l("Paie des salaires : jours après la fin du mois (0 : le dernier jour ; 5 : le 5 du mois suivant)"),
                                   default="0", validators=[Length(max=4)])
    hours_divisor = SelectField(_l("Diviseur horaire annuel"), choices=[SelectChoice("1720", "1720"), SelectChoice("1607", "1607")],
                                validate_choice=False)
    csf_sample_percent = StringField(_l("Contrôle de service fait par échantillon : taux (%) — vide si exhaustif"),
                                     validators=[Length(max=12)])
    csf_extrapolation = BooleanField(_l("La convention prévoit l'extrapolation du taux d'erreur de l'échantillon"))
    status = SelectField(_l("Statut"), choices=_choices(OPERATION_STATUSES, blank=False), validate_choice=False)
    signed_on = DateField(_l("Date de la convention"), validators=[Optional()])


class AmendmentForm(PlanFields, FlaskForm):
    amendment_number = StringField(_l("Numéro d'avenant"), validators=[Length(max=32)])
    signed_on = DateField(_l("Date de l'avenant"), validators=[Optional()])
    reason = TextAreaField(_l("Motif"), validators=[Length(max=2000)])
    end_date = DateField(_l("Fin de la période d'éligibilité"), validators=[Optional()])
    fse_rate = StringField(_l("Taux FSE+ (%)"), validators=[Length(max=12)])
    fse_amount = StringField(_l("Montant FSE+ conventionné"), validators=[Length(max=40)])
    fse_amount_fixed = BooleanField(_l("La convention fixe ce montant (taux appliqué = FSE+ / coût total)"))
    payment_deadline = DateField(_l("Date limite d'acquittement (par défaut : fin + 6 mois)"), validators=[Optional()])


class AmendmentDecisionForm(FlaskForm):
    """An administrator approves a pending amendment, or rejects it with a reason."""

    reason = TextAreaField(_l("Motif du refus"), validators=[Optional(), Length(max=2000)])
