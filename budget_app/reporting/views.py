"""Reporting: the home page, the operations list with their progress, an operation's
dashboard, the intermediate bodies' envelopes and the audit trail. Reads every domain,
writes none."""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.navigation import register_nav
from ..accounts.policy import may
from ..claims.daci import DACI_RECORDERS, checks_blocked
from ..kernel.audit.models import AuditEntry
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..operations.amendments import pending_amendment_operations
from ..operations.models import Envelope
from ..expenses.purge import ended_operations
from . import audit_sentences
from ..operations.envelope_views import form_state as envelope_form_state
from ..operations.services import every_operation_code, visible_operations_query
from ..reminders.items import describe
from ..reminders.views import todo_items
from . import charts
from .forms import AuditFilterForm
from .overview import overviews
from .participants_panel import participants_panel
from .progress import envelope_figures, operation_progress

bp = Blueprint("reporting", __name__)

register_nav("reporting.operations", _l("Opérations"), 10)
register_nav("reporting.envelopes", _l("Enveloppes"), 15)
register_nav("reporting.retention", _l("Conservation"), 90)


def pace_margin() -> Decimal:
    return Decimal(current_app.config["PACE_WARNING_MARGIN_PERCENT"])


def operation_rows(operations):
    """Figures of the operations list (home page, operations list, envelope page)."""
    today = today_in_paris()
    # « avenant en attente »: shown to those who decide it (admins), issue 22.
    pending = pending_amendment_operations([operation.id for operation in operations]) \
        if may("operations.decide_amendment") else set()
    # One set of grouped queries for all the operations, not a statement each (issue 27).
    figures = overviews(operations, today, pace_margin())
    return [{"operation": operation, "progress": figures[operation.id],
             "amendment_pending": operation.id in pending} for operation in operations]


@bp.route("/")
def home():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    blocked = checks_blocked(current_user, operations) if may("claims.decide") else []
    return render_template("reporting/home.html", rows=operation_rows(operations), blocked=blocked,
                           daci_recorders=DACI_RECORDERS, todo=todo_items(), describe=describe,
                           today=today_in_paris())


@bp.route("/operations/")
def operations():
    found = db.session.scalars(visible_operations_query(current_user)).all()
    return render_template("reporting/operations.html", rows=operation_rows(found))


@bp.route("/operations/<operation_code>/tableau-de-bord")
def dashboard():
    operation = g.operation
    progress = operation_progress(operation, today_in_paris(), pace_margin())
    return render_template("reporting/dashboard.html", operation=operation, progress=progress,
                           margin=pace_margin(), charts=charts.dashboard_charts(progress),
                           participants=participants_panel(operation, progress.today))


@bp.route("/enveloppes/")
def envelopes():
    items = db.session.scalars(select(Envelope).order_by(Envelope.code)).all()
    state = envelope_form_state()  # what was typed in a refused form, and why (once)
    return render_template("reporting/envelopes.html", figures=[envelope_figures(e) for e in items],
                           create=state.get("create", {}), attach=state.get("attach", {}), confirm=state.get("confirm"),
                           operation_codes=every_operation_code() if state or items else [], example_day=date(2027, 12, 31))


@bp.route("/enveloppes/<envelope_code>")
def envelope(envelope_code):
    found = db.session.scalar(select(Envelope).where(Envelope.code == envelope_code))
    if found is None:
        abort(404)
    figures = envelope_figures(found)
    return render_template("reporting/envelope.html", envelope=found, figures=figures,
                           rows=operation_rows(found.operations), chart=charts.envelope_chart(figures))


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@bp.route("/journal")
def journal():
    form = AuditFilterForm(request.args)
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    valid = form.validate()  # an invalid filter is ignored (its message shown), never a 500
    if valid:
        if form.object_type.data:
            query = query.where(AuditEntry.object_type == form.object_type.data.strip())
        if form.object_id.data:
            query = query.where(AuditEntry.object_id == form.object_id.data.strip())
        if form.actor.data:
            query = query.where(AuditEntry.actor.contains(form.actor.data.strip()))
        if form.start.data:
            query = query.where(AuditEntry.occurred_at >= _day_start(form.start.data))
        if form.end.data:
            query = query.where(AuditEntry.occurred_at < _day_start(form.end.data + timedelta(days=1)))
    page = db.paginate(query, page=(form.page.data if valid else None) or 1, per_page=current_app.config["AUDIT_PAGE_SIZE"], error_out=False)
    object_types = db.session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)).all()
    return render_template("reporting/journal.html", form=form, page=page, object_types=object_types,
                           audit_headline=audit_sentences.headline, audit_changes=audit_sentences.changes)


@bp.route("/conservation")
def retention():
    """Operations whose retention has ended (CPR art. 82): their documents may be purged
    (`retention purge`). An operation whose retention is extended is not listed."""
    return render_template("reporting/retention.html", ended=ended_operations(today_in_paris()))
