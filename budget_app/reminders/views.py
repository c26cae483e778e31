"""« À faire »: what waits for the person, by due date (overdue first), each item a link
to where it is done; the reminder preferences and the private calendar feed."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.navigation import register_nav
from ..kernel.formatting import today_in_paris
from . import calendar
from .forms import CalendarForm, PreferencesForm
from .items import describe, items_for
from .preferences import choices_for, save_preferences

bp = Blueprint("reminders", __name__)


def todo_count() -> int:
    """Items waiting for the current user, computed once per request (menu and home page)."""
    if "todo_items" not in g:
        g.todo_items = items_for(current_user, today_in_paris()) if current_user.is_authenticated else []
    return len(g.todo_items)


def todo_items():
    todo_count()
    return g.todo_items


register_nav("reminders.todo", _l("À faire"), 5, count=todo_count)


@bp.route("/a-faire")
def todo():
    return _page()


def _page(token_url=None):
    return render_template("reminders/todo.html", items=todo_items(), today=today_in_paris(), describe=describe,
                           choices=choices_for(current_user), preferences=PreferencesForm(),
                           calendar_form=CalendarForm(), feed=calendar.feed_of(current_user), token_url=token_url)


@bp.route("/a-faire/preferences", methods=["POST"])
def preferences():
    form = PreferencesForm()
    if not form.validate_on_submit():
        abort(400)
    save_preferences(current_user, request.form.getlist("on"))
    flash(_("Préférences de rappel enregistrées."), "success")
    return redirect(url_for("reminders.todo"))


@bp.route("/a-faire/calendrier", methods=["POST"])
def calendar_token():
    form = CalendarForm()
    action = request.form.get("action")
    if not form.validate_on_submit() or action not in ("new", "revoke"):
        abort(400)
    if action == "revoke":
        calendar.revoke_feed(current_user)
        flash(_("Lien d'agenda révoqué : l'ancienne adresse ne répond plus."), "success")
        return redirect(url_for("reminders.todo"))
    token = calendar.new_feed_token(current_user)
    # Shown once, on this answer only (never in a URL that a log or history would keep).
    return _page(url_for("reminders.calendar_feed", token=token, _external=True))


@bp.route("/calendrier/<token>.ics")
def calendar_feed(token):
    user = calendar.user_for_feed(token)
    if user is None:
        abort(404)
    body = calendar.calendar_bytes(user, today_in_paris())
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="echeances.ics"'})
