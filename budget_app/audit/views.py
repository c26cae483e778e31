from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from ..extensions import db
from .forms import AuditFilterForm
from .models import AuditEntry

bp = Blueprint("audit", __name__)


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@bp.route("/journal")
def entries():
    form = AuditFilterForm(request.args)
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if form.validate():
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
    page = db.paginate(query, page=form.page.data or 1, per_page=current_app.config["AUDIT_PAGE_SIZE"], error_out=False)
    object_types = db.session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)).all()
    return render_template("audit/entries.html", form=form, page=page, object_types=object_types)
