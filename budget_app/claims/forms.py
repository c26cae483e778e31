from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..kernel.errors import DomainError
from ..kernel.forms import FlaskForm, WholeNumberField, plausible_day
from ..kernel.money import typed_amount
from .models import CSF_REASONS


class PeriodForm(FlaskForm):
    """A GET form: computing a period changes nothing."""

    class Meta:
        csrf = False

    month = StringField(_l("Mois (AAAA-MM ou MM/AAAA)"), validators=[Optional(), Length(max=7)])
    start = DateField(_l("Du"), validators=[Optional(), plausible_day])
    end = DateField(_l("Au"), validators=[Optional(), plausible_day])


class CreateForm(FlaskForm):
    start = DateField(_l("Du"), validators=[DataRequired(), plausible_day])
    end = DateField(_l("Au"), validators=[DataRequired(), plausible_day])
    final = BooleanField(_l("Bilan final (il se termine à la fin de l'opération)"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Motif"), validators=[DataRequired(), Length(max=2000)])


class HoldForm(FlaskForm):
    """The managing authority's hold on one line (admins: ``claims.hold_line``)."""
    line = HiddenField()
    action = StringField()  # the button pressed: "hold" or "release"
    reason = TextAreaField(_l("Motif"))  # checked by ``holds`` (one rule, the command's too)


class ActionForm(FlaskForm):
    """Only the CSRF token."""


def amount_field_value(text, allow_negative: bool = False):
    """The amount typed in a form (as the reader's pages print it), or an error message."""
    try:
        return typed_amount(text, allow_negative=allow_negative), None
    except DomainError as error:
        return None, str(error)


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Décision"),
        choices=[SelectChoice("kept", _l("Retenue")), SelectChoice("reduced", _l("Réduite")),
                 SelectChoice("excluded", _l("Écartée"))],
    )
    amount = StringField(_l("Montant retenu"), validators=[Optional(), Length(max=32)])
    reason = SelectField(
        _l("Motif"),
        choices=[SelectChoice("", "—")] + [SelectChoice(code, _l(label)) for code, label in CSF_REASONS.items()],
        validators=[Optional()],
    )
    comment = StringField(_l("Commentaire"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()  # the line's version the controller saw (optimistic locking)


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Date de paiement"), validators=[DataRequired()])
    amount = StringField(_l("Montant reçu"), validators=[DataRequired(), Length(max=32)])
    reference = StringField(_l("Référence du virement"), validators=[Optional(), Length(max=255)])
    overpayment = BooleanField(_l("L'organisme payeur a versé plus que le paiement attendu (trop-perçu déduit du paiement suivant)"))


class AdvanceForm(FlaskForm):
    paid_on = DateField(_l("Date de versement"), validators=[DataRequired()])
    amount = StringField(_l("Montant de l'avance"), validators=[DataRequired(), Length(max=32)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class DaciForm(FlaskForm):
    user_id = SelectField(_l("Personne"), coerce=int, validators=[DataRequired()])
    operation_id = SelectField(_l("Opération"), coerce=int, validators=[Optional()])
    programme_year = WholeNumberField(_l("Ou année de programmation (toutes les opérations)"),
                                  validators=[Optional(), NumberRange(min=2021, max=2100)])
    signed_on = DateField(_l("Signée le"), validators=[DataRequired()])
    valid_until = DateField(_l("Valable jusqu'au"), validators=[Optional()])
    has_interest = BooleanField(_l("Un intérêt est déclaré"))
    interest_description = TextAreaField(_l("Description de l'intérêt"), validators=[Optional(), Length(max=5000)])
