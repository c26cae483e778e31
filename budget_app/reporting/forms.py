from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ..kernel.forms import FlaskForm, WholeNumberField, plausible_day


# A page number beyond this is no page (an OFFSET that large overflows the database).
MAX_PAGE = 1_000_000


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    object_type = StringField(_l("Objet"), validators=[Optional(), Length(max=64)])
    object_id = StringField(_l("Identifiant"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Utilisateur"), validators=[Optional(), Length(max=255)])
    start = DateField(_l("Du"), validators=[Optional(), plausible_day])
    end = DateField(_l("Au"), validators=[Optional(), plausible_day])
    page = WholeNumberField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)], default=1)
