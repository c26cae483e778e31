"""The DACI register: who may check which operation. Not confidential: admins, auditors
and the anti-fraud referent read it; admins and the referent record declarations."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...accounts.models import User
from ...accounts.policy import daci_signatories, may
from ...kernel.extensions import db
from ...kernel.transactions import attempt
from ...operations.models import Operation
from ..daci import (
    daci_register as declarations,
)
from ..daci import (
    declaration_in_force,
    missing_declarations,
    record_declaration,
    today,
    withdraw_declaration,
)
from ..forms import ActionForm, DaciForm
from ..models import DaciDeclaration
from . import bp


@bp.route("/daci")
def daci_register():
    day = today()
    return render_template(
        "claims/daci_register.html",
        declarations=[(d, declaration_in_force(d, day)) for d in declarations()],
        missing=missing_declarations(day),
        today=day,
        withdraw_form=ActionForm(),
        can_write=may("claims.daci_new"),
    )


@bp.route("/daci/nouvelle", methods=["GET", "POST"])
def daci_new():
    form = DaciForm()
    people = db.session.scalars(
        select(User).where(daci_signatories()).order_by(User.email)
    ).all()
    form.user_id.choices = [SelectChoice(u.id, u.email) for u in people]
    form.operation_id.choices = [SelectChoice(0, _("— Toutes (année de programmation) —"))] + [
        SelectChoice(op.id, f"{op.code} — {op.title}") for op in db.session.scalars(select(Operation).order_by(Operation.code)).all()
    ]
    if form.validate_on_submit():
        operation = db.session.get(Operation, form.operation_id.data) if form.operation_id.data else None
        with attempt() as outcome:
            record_declaration(
                user=db.session.get(User, form.user_id.data), operation=operation,
                programme_year=form.programme_year.data, signed_on=form.signed_on.data,
                valid_until=form.valid_until.data, has_interest=form.has_interest.data,
                interest_description=form.interest_description.data, recorded_by=current_user,
            )
        if outcome.refused:
            form.operation_id.errors = list(form.operation_id.errors) + [str(outcome.error)]
        else:
            flash(_("Déclaration enregistrée."), "success")
            return redirect(url_for("claims.daci_register"))
    return render_template("claims/daci_form.html", form=form), (400 if form.errors else 200)


@bp.route("/daci/<int:declaration_id>/retrait", methods=["POST"])
def daci_withdraw(declaration_id):
    declaration = db.session.get(DaciDeclaration, declaration_id)
    if declaration is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            withdraw_declaration(declaration)
        if outcome.refused:
            flash(str(outcome.error), "error")
        else:
            flash(_("Déclaration retirée."), "success")
    return redirect(url_for("claims.daci_register"))
