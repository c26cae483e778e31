from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ..kernel.forms import FlaskForm


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    object_type = StringField(_l("Objet"), validators=[Optional(), Length(max=64)])
    object_id = StringField(_l("Identifiant"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Utilisateur"), validators=[Optional(), Length(max=255)])
    start = DateField(_l("Du"), validators=[Optional()])
    end = DateField(_l("Au"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1)], default=1)
