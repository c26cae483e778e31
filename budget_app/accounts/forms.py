from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..kernel.forms import FlaskForm


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired()])
    new = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[DataRequired(), EqualTo("new", message=_l("Les deux mots de passe ne sont pas identiques."))],
    )


class CodeForm(FlaskForm):
    code = StringField(_l("Code à 6 chiffres (ou code de secours)"), validators=[DataRequired(), Length(max=32)])


class ConfirmForm(FlaskForm):
    """Password and code typed again before a sensitive action."""

    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Code à 6 chiffres (ou code de secours)"), validators=[Optional(), Length(max=32)])
    next = HiddenField()


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Langue"), choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""


class InviteForm(FlaskForm):
    """An administrator creates an account; the person sets the password through a link."""

    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    full_name = StringField(_l("Nom et prénom"), validators=[Optional(), Length(max=120)])
    # No role preselected (issue 21): the admin chooses one; the empty choice is refused.
    role = SelectField(_l("Rôle"), validators=[DataRequired(message=_l("Choisissez le rôle de la personne."))])
    operations = StringField(_l("Opérations (codes séparés par des virgules)"), validators=[Optional(), Length(max=2000)])


class AssignmentForm(FlaskForm):
    code = StringField(_l("Code de l'opération"), validators=[Optional(), Length(max=64)])


class SetupPasswordForm(FlaskForm):
    new = PasswordField(_l("Nouveau mot de passe (12 caractères au moins)"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("new", message=_l("Les deux mots de passe ne sont pas identiques."))],
    )
