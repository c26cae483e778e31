from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from werkzeug.utils import cached_property
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..kernel.forms import FlaskForm
from .filing import MAX_TEXT
from .models import KIND_LABELS, KINDS, RECIPIENT_LABELS, RECIPIENTS


class LongLivedForm(FlaskForm):
    """A public form that may stay open for hours: its CSRF token is checked with
    ``ALERT_FORM_CSRF_TIME_LIMIT`` instead of the site-wide 3600 s, so a person who takes
    two hours to write a report does not lose it (the view is exempt from the global check)."""

    class Meta(FlaskForm.Meta):
        @cached_property
        def csrf_time_limit(self):
            return current_app.config["ALERT_FORM_CSRF_TIME_LIMIT"]


class ReportForm(LongLivedForm):
    kind = RadioField(_l("Type de signalement"), choices=[SelectChoice(k, _l(KIND_LABELS[k])) for k in KINDS], validators=[DataRequired()])
    operation_id = SelectField(_l("Opération concernée"), coerce=str, validators=[Optional()])
    operation_text = TextAreaField(
        _l("Ou décrivez l'opération"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Si elle n'est pas dans la liste : porteur, intitulé, lieu…"),
    )
    facts = TextAreaField(_l("Faits"), validators=[DataRequired(), Length(max=MAX_TEXT)],
                          description=_l("Ce qui s'est passé, où, comment vous l'avez appris."))
    persons = TextAreaField(_l("Personnes concernées"), validators=[Optional(), Length(max=5000)],
                            description=_l("Une personne par ligne (nom ou fonction)."))
    dates = StringField(_l("Dates ou période des faits"), validators=[Optional(), Length(max=500)])
    attachments = MultipleFileField(_l("Pièces jointes"),
                                    description=_l("PDF, PNG, JPEG, DOCX, XLSX ou ODT, 10 Mo au plus chacune."))
    identity = RadioField(
        _l("Votre identité"),
        choices=[SelectChoice("anonymous", _l("Je reste anonyme")), SelectChoice("named", _l("Je donne mon nom et un contact"))],
        default="anonymous",
        validators=[DataRequired()],
    )
    name = StringField(_l("Nom"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("Contact (e-mail ou téléphone)"), validators=[Optional(), Length(max=200)])


class FollowUpLoginForm(FlaskForm):
    reference = StringField(_l("Référence du signalement"), validators=[DataRequired(), Length(max=20)])
    secret = StringField(_l("Code secret"), validators=[DataRequired(), Length(max=100)])


class ReplyForm(LongLivedForm):
    body = TextAreaField(_l("Votre réponse"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    attachments = MultipleFileField(_l("Pièces jointes"))


class EmptyForm(FlaskForm):
    """Only the CSRF token (end of follow-up session)."""


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message à l'auteur du signalement"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    feedback = BooleanField(_l("Ce message informe l'auteur des suites données (retour d'information)"))


class TransitionForm(FlaskForm):
    target = StringField(validators=[DataRequired(), Length(max=32)])
    reason = TextAreaField(_l("Motif"), validators=[DataRequired(), Length(max=5000)])
    message = TextAreaField(_l("Message à l'auteur du signalement"), validators=[Optional(), Length(max=MAX_TEXT)])
    recipient = SelectField(
        _l("Destinataire"), choices=[SelectChoice("", "—")] + [SelectChoice(r, _l(RECIPIENT_LABELS[r])) for r in RECIPIENTS], validators=[Optional()]
    )
    on = DateField(_l("Date"), validators=[Optional()])


class OperationLinkForm(FlaskForm):
    operation_id = SelectField(_l("Opération"), coerce=int, validators=[DataRequired()])


class CostLinesForm(FlaskForm):
    """Lines picked from the operation's list (``line`` = "type:id"), or typed ids."""

    expense_ids = StringField(_l("N° de dépenses"), validators=[Optional(), Length(max=500)])
    staff_ids = StringField(_l("N° de lignes de frais de personnel"), validators=[Optional(), Length(max=500)])


class LiftForm(FlaskForm):
    reason = TextAreaField(_l("Motif de la levée"), validators=[DataRequired(), Length(max=5000)])


class TransmissionForm(FlaskForm):
    amount = StringField(_l("Montant concerné (€)"), validators=[Optional(), Length(max=30)],
                         description=_l("Vide : total des lignes suspectées."))
    eu_amount = StringField(_l("Part UE concernée (€)"), validators=[Optional(), Length(max=30)],
                            description=_l("Vide : montant concerné × taux FSE+ de l'opération."))
    detected_on = DateField(_l("Date de détection"), validators=[Optional()])
    period_start = DateField(_l("Début de la période concernée"), validators=[Optional()])
    period_end = DateField(_l("Fin de la période concernée"), validators=[Optional()])
    detection = TextAreaField(_l("Mode de détection (précisions)"), validators=[Optional(), Length(max=5000)])
    measures = TextAreaField(_l("Mesures prises"), validators=[Optional(), Length(max=5000)])
    persons = TextAreaField(_l("Personnes concernées (une par ligne)"), validators=[Optional(), Length(max=5000)])
    reveal_persons = BooleanField(_l("Nommer les personnes concernées (sinon : pseudonymes)"))
