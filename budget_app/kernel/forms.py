"""The application's form base class: every text field (``StringField`` and its subclasses:
text areas, passwords, e-mails...) is normalised (NFC, one kind of line break) and refuses
control characters other than tab and newline, with a clear message (``kernel.text``).
Domain forms import ``FlaskForm`` from here instead of ``flask_wtf``."""
import flask_wtf
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import ValidationError

from .integers import parse_int
from .text import control_character, normalise_input


def _normalise(value):
    return normalise_input(value) if isinstance(value, str) else value


def _no_control_character(form, field):
    if isinstance(field.data, str):
        found = control_character(field.data)
        if found:
            raise ValidationError(
                _l("Caractère de contrôle interdit (%(char)s) : retapez le texte sans ce caractère.", char=found)
            )


def plausible_day(form, field):
    """A day a search can hold: 0001-01-01 or 9999-12-31 would overflow the day after."""
    if field.data is not None and not 1900 <= field.data.year <= 2199:
        raise ValidationError(_l("Date hors limites (1900 à 2199)."))


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(flask_wtf.FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField):
                field.filters = (_normalise, *field.filters)
                field.validators = [*field.validators, _no_control_character]
            return field


class WholeNumberField(IntegerField):
    """An integer field read by ``kernel.integers.parse_int`` (ASCII digits only, within
    PostgreSQL's integer): « ² », « ١٢ », « 1e23 » or 20 digits are a field error, never a 500."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_int(valuelist[0])
        if self.data is None and (valuelist[0] or "").strip():
            raise ValueError(_l("Nombre entier attendu (chiffres 0 à 9)."))
