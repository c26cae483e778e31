"""Operations, financing plans and intermediate-body envelopes (issue 4).

Thin views: load (``g.operation`` is loaded and authorised by access.py), parse the form,
call the service, commit, redirect."""
import re
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ..access import visible_operations_query
from ..accounts.roles import ADMIN, ANTIFRAUD_REFERENT, AUDITOR, CONTROLLER, FINANCE_OFFICER
from ..extensions import db
from ..money import AmountError, parse_amount, parse_decimal
from ..navigation import register_nav
from . import charts
from .forms import EXTRA_ROWS, AmendmentForm, OperationForm
from .models import (
    COST_CATEGORIES, FLAT_RATES, OPERATION_STATUSES, ORGANISATION_KINDS, RESOURCE_KINDS, Envelope, Organisation,
)
from .services import (
    CostLine, FlatRateLine, OperationInput, OrganisationInput, PlanError, PlanInput, ResourceLine, compare_versions,
    create_operation, current_figures, envelope_figures, normalise_siret, operation_progress, plan_figures,
    record_amendment,
)

bp = Blueprint("operations", __name__)

register_nav("operations.index", _l("Opérations"), {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR, ANTIFRAUD_REFERENT}, 10)
register_nav("operations.envelopes", _l("Enveloppes"), {ADMIN, AUDITOR, ANTIFRAUD_REFERENT}, 15)


@bp.app_context_processor
def labels():
    # flask_babel's gettext, not Jinja's: these labels contain "%" and take no variables.
    return {
        "flat_rate_codes": list(FLAT_RATES),
        "category_label": lambda code: _(COST_CATEGORIES[code]) if code in COST_CATEGORIES else code,
        "flat_rate_label": lambda code: _(FLAT_RATES[code][0]) if code in FLAT_RATES else code,
        "resource_label": lambda kind: _(RESOURCE_KINDS[kind]) if kind in RESOURCE_KINDS else kind,
        "status_label": lambda status: _(OPERATION_STATUSES[status]) if status in OPERATION_STATUSES else status,
        "organisation_kind_label": lambda kind: _(ORGANISATION_KINDS[kind]) if kind in ORGANISATION_KINDS else kind,
    }


def today() -> date:
    return date.today()


def pace_margin() -> Decimal:
    return Decimal(str(current_app.config.get("PACE_WARNING_MARGIN_PERCENT", 15)))


def operation_rows(operations):
    """Figures of the operations list (also used by the home page)."""
    rows = []
    for operation in operations:
        progress = operation_progress(operation, today(), pace_margin())
        rows.append({"operation": operation, "progress": progress})
    return rows


@bp.route("/operations/")
def index():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    return render_template("operations/index.html", rows=operation_rows(operations))


@bp.route("/operations/<operation_code>/")
def detail():
    operation = g.operation
    version = operation.current_plan
    figures = current_figures(operation)
    return render_template("operations/detail.html", operation=operation, version=version, figures=figures,
                           versions=operation.plan_versions)


@bp.route("/operations/<operation_code>/versions/<int:number>")
def version(number):
    operation = g.operation
    found = next((v for v in operation.plan_versions if v.number == number), None)
    if found is None:
        abort(404)
    return render_template("operations/version.html", operation=operation, version=found, figures=plan_figures(found))


@bp.route("/operations/<operation_code>/comparaison")
def compare():
    operation = g.operation
    versions = operation.plan_versions
    if not versions:
        abort(404)
    by_number = {v.number: v for v in versions}

    def pick(name, default):
        try:
            return by_number[int(request.args.get(name, default))]
        except (KeyError, ValueError, TypeError):
            return by_number[default]

    old = pick("de", versions[max(len(versions) - 2, 0)].number)
    new = pick("a", versions[-1].number)
    return render_template("operations/compare.html", operation=operation, versions=versions,
                           comparison=compare_versions(old, new))


@bp.route("/operations/<operation_code>/tableau-de-bord")
def dashboard():
    operation = g.operation
    progress = operation_progress(operation, today(), pace_margin())
    return render_template("operations/dashboard.html", operation=operation, progress=progress,
                           margin=pace_margin(), charts=charts.dashboard_charts(progress))


# ---------------------------------------------------------------- forms


def _fill_plan(form, version):
    costs = list(version.costs)
    resources = list(version.resources)
    while len(form.costs) < len(costs) + EXTRA_ROWS:
        form.costs.append_entry()
    while len(form.resources) < len(resources) + EXTRA_ROWS:
        form.resources.append_entry()
    for row, cost in zip(form.costs, costs):
        row.form.category.data = cost.category
        row.form.year.data = str(cost.year)
        row.form.amount.data = _plain(cost.amount)
    for row, resource in zip(form.resources, resources):
        row.form.kind.data = resource.kind
        row.form.name.data = resource.name
        row.form.amount.data = _plain(resource.amount)
    for flat in version.flat_rates:
        getattr(form.flat_rates, flat.code).data = _plain(flat.rate.normalize())


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.replace(".", ",")


class _Collector:
    """Parses form text into service inputs, keeping errors by form field."""

    def __init__(self, form):
        self.form = form
        self.errors = []  # (field or None, message)

    def add(self, field, message):
        self.errors.append((field, message))

    def amount(self, field, required=True):
        text = (field.data or "").strip()
        if not text:
            if required:
                self.add(field, _("Champ obligatoire."))
            return None
        try:
            return parse_amount(text)
        except AmountError as exc:
            self.add(field, str(exc))
            return None

    def rate(self, field, required=True):
        text = (field.data or "").strip().rstrip("%").strip()
        if not text:
            if required:
                self.add(field, _("Champ obligatoire."))
            return None
        try:
            return parse_decimal(text, places=4, maximum=Decimal("100"))
        except AmountError as exc:
            self.add(field, str(exc))
            return None

    def required(self, field):
        if field.data in (None, ""):
            self.add(field, _("Champ obligatoire."))
        return field.data

    def plan(self):
        form = self.form
        plan = PlanInput()
        self.cost_rows, self.resource_rows, self.rate_fields = [], [], []
        for row in form.costs:
            entry = row.form
            if not (entry.category.data or (entry.year.data or "").strip() or (entry.amount.data or "").strip()):
                continue
            category = entry.category.data or ""
            if not category:
                self.add(entry.category, _("Champ obligatoire."))
            year_text = (entry.year.data or "").strip()
            year = int(year_text) if re.fullmatch(r"\d{4}", year_text) else None
            if year is None:
                self.add(entry.year, _("Année sur quatre chiffres attendue."))
            amount = self.amount(entry.amount)
            if category and year is not None and amount is not None:
                plan.costs.append(CostLine(category, year, amount))
                self.cost_rows.append(entry)
        for code in FLAT_RATES:
            field = getattr(form.flat_rates.form, code)
            rate = self.rate(field, required=False)
            if rate is not None:
                plan.flat_rates.append(FlatRateLine(code, rate))
                self.rate_fields.append(field)
        for row in form.resources:
            entry = row.form
            if not (entry.kind.data or (entry.name.data or "").strip() or (entry.amount.data or "").strip()):
                continue
            if not entry.kind.data:
                self.add(entry.kind, _("Champ obligatoire."))
            if not (entry.name.data or "").strip():
                self.add(entry.name, _("Champ obligatoire."))
            amount = self.amount(entry.amount)
            if entry.kind.data and (entry.name.data or "").strip() and amount is not None:
                plan.resources.append(ResourceLine(entry.kind.data, entry.name.data.strip(), amount))
                self.resource_rows.append(entry)
        return plan

    def field_for(self, path):
        """The form field a service error path (``plan.costs[2].amount``) refers to, or None."""
        match = re.fullmatch(r"plan\.(costs|resources|flat_rates)\[(\d+)\](?:\.(\w+))?", path)
        if match:
            kind, index, attribute = match.group(1), int(match.group(2)) - 1, match.group(3)
            if kind == "flat_rates":
                return self.rate_fields[index] if index < len(self.rate_fields) else None
            rows = self.cost_rows if kind == "costs" else self.resource_rows
            if index < len(rows) and attribute and attribute in rows[index]._fields:
                return rows[index][attribute]
            return None
        prefix, _, name = path.partition(".")
        if prefix == "organisation":
            name = "organisation_" + name
        elif prefix == "operation" and name == "envelope":
            name = "envelope_id"
        elif prefix not in ("operation", "plan") or name in ("costs", "resources", "flat_rates"):
            return None
        field = self.form._fields.get(name)
        return field if field is not None and not hasattr(field, "entries") else None

    def service_errors(self, plan_error):
        for path, message in plan_error.errors:
            field = self.field_for(path)
            self.add(field, message if field is not None else f"{_path_label(path)} : {message}")

    def apply(self):
        general = []
        for field, message in self.errors:
            if field is None:
                general.append(message)
            else:
                field.errors = list(field.errors or []) + [message]
        return general


PATH_LABELS = {
    "plan.resources": _l("Ressources"),
    "plan.costs": _l("Dépenses"),
    "plan.flat_rates": _l("Taux forfaitaires"),
    "operation.envelope": _l("Enveloppe"),
}


def _path_label(path):
    return str(PATH_LABELS.get(path, path))


def _organisation_choices():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [SelectChoice("", "—")] + [SelectChoice(str(o.id), o.name + (f" ({o.siret})" if o.siret else "")) for o in organisations]


def _envelope_choices():
    envelopes = db.session.scalars(select(Envelope).order_by(Envelope.code)).all()
    return [SelectChoice("", _("Aucune"))] + [SelectChoice(str(e.id), f"{e.code} — {e.name}") for e in envelopes]


@bp.route("/operations/nouvelle", methods=["GET", "POST"])
def create():
    form = OperationForm()
    form.organisation_id.choices = _organisation_choices()
    form.envelope_id.choices = _envelope_choices()
    general = []
    if form.validate_on_submit():
        collector = _Collector(form)
        plan = collector.plan()
        plan.signed_on = form.signed_on.data
        organisation = None
        if form.organisation_id.data:
            organisation = db.session.get(Organisation, int(form.organisation_id.data)) if form.organisation_id.data.isdigit() else None
            if organisation is None:
                collector.add(form.organisation_id, _("Bénéficiaire inconnu."))
        elif (form.organisation_name.data or "").strip():
            organisation = OrganisationInput(
                name=form.organisation_name.data.strip(),
                kind=form.organisation_kind.data,
                siret=normalise_siret(form.organisation_siret.data),
                address=(form.organisation_address.data or "").strip() or None,
            )
        else:
            collector.add(form.organisation_id, _("Choisissez un bénéficiaire ou saisissez-en un nouveau."))
        envelope = None
        if form.envelope_id.data:
            envelope = db.session.get(Envelope, int(form.envelope_id.data)) if form.envelope_id.data.isdigit() else None
            if envelope is None:
                collector.add(form.envelope_id, _("Enveloppe inconnue."))
        collector.required(form.start_date)
        collector.required(form.end_date)
        fse_rate = collector.rate(form.fse_rate)
        fse_amount = collector.amount(form.fse_amount)
        advance_rate = collector.rate(form.advance_rate, required=False) or Decimal("0")
        if not collector.errors:
            op = OperationInput(
                code=(form.code.data or "").strip(),
                title=(form.title.data or "").strip(),
                service=(form.service.data or "").strip() or None,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                fse_rate=fse_rate,
                fse_amount=fse_amount,
                advance_rate=advance_rate,
                hours_divisor=int(form.hours_divisor.data) if (form.hours_divisor.data or "").isdigit() else 0,
                status=form.status.data,
            )
            try:
                operation = create_operation(op, organisation, plan, envelope=envelope, user_id=current_user.id)
                db.session.commit()
            except PlanError as exc:
                db.session.rollback()
                collector.service_errors(exc)
            except IntegrityError:  # created by someone else meanwhile (same code or SIRET)
                db.session.rollback()
                collector.add(None, _("Enregistrement concurrent : une opération ou un bénéficiaire identique vient d'être créé. Vérifiez puis réessayez."))
            else:
                flash(_("Opération %(code)s créée.", code=operation.code), "success")
                return redirect(url_for("operations.detail", operation_code=operation.code))
        general = collector.apply()
    elif request.method == "POST":
        general = [_("Formulaire incomplet ou expiré : vérifiez les champs.")]
    status = 400 if request.method == "POST" else 200
    return render_template("operations/create.html", form=form, general=general), status


@bp.route("/operations/<operation_code>/avenant", methods=["GET", "POST"])
def amend():
    operation = g.operation
    form = AmendmentForm()
    general = []
    if request.method == "GET":
        form.end_date.data = operation.end_date
        form.fse_rate.data = _plain(operation.fse_rate.normalize())
        form.fse_amount.data = _plain(operation.fse_amount)
        if operation.current_plan is not None:
            _fill_plan(form, operation.current_plan)
    elif form.validate_on_submit():
        collector = _Collector(form)
        plan = collector.plan()
        plan.amendment_number = (form.amendment_number.data or "").strip() or None
        plan.signed_on = form.signed_on.data
        plan.reason = (form.reason.data or "").strip() or None
        fse_rate = collector.rate(form.fse_rate)
        fse_amount = collector.amount(form.fse_amount)
        collector.required(form.end_date)
        if not collector.errors:
            try:
                version = record_amendment(operation, plan, end_date=form.end_date.data, fse_rate=fse_rate,
                                           fse_amount=fse_amount, user_id=current_user.id)
                db.session.commit()
            except PlanError as exc:
                db.session.rollback()
                collector.service_errors(exc)
            except IntegrityError:  # two amendments at once: the version number is unique
                db.session.rollback()
                collector.add(None, _("Un autre avenant vient d'être enregistré pour cette opération : rechargez la page."))
            else:
                flash(_("Avenant enregistré : plan version %(number)s.", number=version.number), "success")
                return redirect(url_for("operations.detail", operation_code=operation.code))
        general = collector.apply()
    else:
        general = [_("Formulaire incomplet ou expiré : vérifiez les champs.")]
    status = 400 if request.method == "POST" else 200
    return render_template("operations/amend.html", operation=operation, form=form, general=general), status


# ---------------------------------------------------------------- envelopes


@bp.route("/enveloppes/")
def envelopes():
    items = db.session.scalars(select(Envelope).order_by(Envelope.code)).all()
    return render_template("operations/envelopes.html", figures=[envelope_figures(e) for e in items])


@bp.route("/enveloppes/<envelope_code>")
def envelope(envelope_code):
    found = db.session.scalar(select(Envelope).where(Envelope.code == envelope_code))
    if found is None:
        abort(404)
    figures = envelope_figures(found)
    return render_template("operations/envelope.html", envelope=found, figures=figures,
                           rows=operation_rows(found.operations), chart=charts.envelope_chart(figures))
