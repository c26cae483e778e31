"""Participants' pages (participants §1-§5). Caseworkers enter and read their operations'
participants; finance officers, controllers, admins and auditors see counts and codes
only (the policy decides who reaches which page: ``accounts/policy.py``); every page that
shows an identity or a special-category answer logs the read (``access_log``).
Views are thin: the operation is loaded and authorised by ``accounts.access``."""
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.navigation import register_nav
from ..kernel.errors import Conflict, DomainError, seen_version
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_, translate_label
from ..kernel.money import parse_day
from ..kernel.transactions import attempt
from ..operations.closure import refuse_when_closed
from ..operations.services import visible_operations_query
from . import access_log, deadlines, exports, forms, indicators
from .imports import save_participant
from .models import EXIT_REASONS, EXIT_SITUATIONS, SEXES, STATUSES, Participant
from .records import allows_non_binary, identity_of

bp = Blueprint("participants", __name__)
refuse_when_closed(bp, ("new", "edit", "import_participants"))
register_nav("participants.home", _l("Participants"), order=45)


@bp.app_context_processor
def participant_labels():
    return {
        "sex_label": lambda value: translate_label(SEXES, value) if value else "",
        "status_label": lambda value: translate_label(STATUSES, value) if value else "",
        "exit_reason_label": lambda value: translate_label(EXIT_REASONS, value) if value else "",
        "exit_situation_label": lambda value: translate_label(EXIT_SITUATIONS, value) if value else "",
        "due_label": lambda kind: translate_label(deadlines.KINDS, kind),
        "indicator_label": lambda code: translate_label(indicators.LABELS, code),
    }


def _participant(code: str) -> Participant:
    participant = db.session.scalar(select(Participant).where(Participant.operation_id == g.operation.id,
                                                              Participant.code == code[:16]))
    if participant is None:
        abort(404)
    return participant


@bp.route("/participants")
def home():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    today = today_in_paris()
    mine = [due for due in deadlines.open_dues([op.id for op in operations], today)
            if due.caseworker_id == current_user.id]
    codes = {op.id: op.code for op in operations}
    return render_template("participants/home.html", operations=operations, today=today, mine=mine, codes=codes,
                           counts={op.id: deadlines.presence_counts(op.id, today) for op in operations})


@bp.route("/operations/<operation_code>/participants/")
def index():
    operation = g.operation
    today = today_in_paris()
    participants = db.session.scalars(select(Participant).where(Participant.operation_id == operation.id)
                                      .order_by(Participant.code)).all()
    dues = {}
    for participant in participants:
        dues[participant.code] = deadlines.dues_of(participant, today)
    return render_template("participants/index.html", operation=operation, participants=participants, dues=dues,
                           counts=deadlines.presence_counts(operation.id, today),
                           incomplete=dict(indicators.incomplete_participants(operation.id)))


def _period_argument(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = parse_day(text[:20])
    except DomainError:
        flash(_("Date ignorée : « %(value)s » (attendu JJ/MM/AAAA).", value=text[:20]), "error")
        return None
    return day if 1900 <= day.year <= 2199 else None


@bp.route("/operations/<operation_code>/participants/indicateurs")
def indicator_page():
    start, end = _period_argument("du"), _period_argument("au")
    if start and end and start > end:
        flash(_("La date de début suit la date de fin : période ignorée."), "error")
        start = end = None
    table = indicators.indicator_table(g.operation.id, start, end)
    return render_template("participants/indicators.html", operation=g.operation, table=table,
                           codes=indicators.CODES, problems=indicators.consistency_problems(table),
                           incomplete=indicators.incomplete_participants(g.operation.id))


@bp.route("/operations/<operation_code>/participants/<participant_code>")
def detail(participant_code):
    participant = _participant(participant_code)
    try:
        identity = identity_of(participant)
    except DomainError as error:
        flash(str(error), "error")
        identity = {}
    access_log.log_read(participant)
    return render_template("participants/detail.html", operation=g.operation, participant=participant,
                           identity=identity, dues=deadlines.dues_of(participant, today_in_paris()),
                           labels=forms.LABELS)


def _form_page(participant=None):
    operation = g.operation
    keys = forms.ENTRY_KEYS + (forms.EXIT_KEYS if participant is not None else ())
    context = {"operation": operation, "participant": participant, "choices": forms.CHOICES, "labels": forms.LABELS,
               "entry_keys": forms.ENTRY_KEYS, "exit_keys": forms.EXIT_KEYS if participant is not None else (),
               "allow_x": allows_non_binary(operation), "errors": {}, "general": []}
    if request.method == "GET":
        identity = identity_of(participant) if participant is not None else None
        if participant is not None:
            access_log.log_read(participant)
        values = forms.form_values(participant, identity) if participant is not None else {}
        return render_template("participants/form.html", values=values, **context)
    values = forms.posted(keys)
    with attempt() as outcome:  # a refusal leaves nothing written (kernel.transactions)
        if participant is not None:
            if seen_version(request.form.get("version")) != participant.version:
                raise Conflict(CONFLICT)
            values["code"] = participant.code
        saved = save_participant(operation, values, user=current_user)
        db.session.flush()
    if outcome.refused:
        error = Conflict(CONFLICT) if isinstance(outcome.error, Conflict) else outcome.error
        context["errors"], context["general"] = forms.errors_by_field(error.problems or [])
        if not error.problems:
            context["general"] = [str(error)]
        return render_template("participants/form.html", values=values, **context), 409 if isinstance(
            error, Conflict) else 422
    flash(_("Participant %(code)s enregistré.", code=saved.code), "success")
    return redirect(url_for("participants.index"))


CONFLICT = N_("Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie : rechargez-la puis "
              "enregistrez à nouveau.")


@bp.route("/operations/<operation_code>/participants/nouveau", methods=["GET", "POST"])
def new():
    return _form_page()


@bp.route("/operations/<operation_code>/participants/<participant_code>/modifier", methods=["GET", "POST"])
def edit(participant_code):
    return _form_page(_participant(participant_code))


@bp.route("/operations/<operation_code>/participants/<participant_code>/droit-d-acces.csv")
def access_export(participant_code):
    """Right of access (GDPR art. 15): everything recorded about the person, for them."""
    participant = _participant(participant_code)
    header, rows = exports.access_rows(participant)
    access_log.log_read(participant, "access_export")
    return exports.download(exports.write(header, rows, xlsx=False), f"droit-d-acces-{participant.code}.csv")


@bp.route("/participants/journal-des-acces")
def access_journal():
    return render_template("participants/access_log.html", entries=access_log.entries(),
                           action_label=lambda action: translate_label(access_log.ACTIONS, action))
