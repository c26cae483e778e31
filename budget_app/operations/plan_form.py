"""The financing-plan forms read into service inputs (``rules.PlanInput``...), and the
problems the rules find put back on the fields they name (``plan.costs[2].amount``).
Amounts and rates are typed as French text and parsed by ``kernel.money``."""
import re
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..kernel.integers import parse_int
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_number
from ..kernel.money import typed_amount, typed_percent
from .forms import EXTRA_ROWS
from .models import FLAT_RATES, Envelope, Organisation
from .rules import CostLine, FlatRateLine, PlanInput, ResourceLine


def fill_plan(form, version):
    costs = list(version.costs)
    resources = list(version.resources)
    while len(form.costs) < len(costs) + EXTRA_ROWS:
        form.costs.append_entry()
    while len(form.resources) < len(resources) + EXTRA_ROWS:
        form.resources.append_entry()
    for row, cost in zip(form.costs, costs):
        row.form.category.data = cost.category
        row.form.year.data = str(cost.year)
        row.form.amount.data = format_number(cost.amount, places=2, plain=True)
    for row, resource in zip(form.resources, resources):
        row.form.kind.data = resource.kind
        row.form.name.data = resource.name
        row.form.amount.data = format_number(resource.amount, places=2, plain=True)
    for flat in version.flat_rates:
        getattr(form.flat_rates, flat.code).data = format_number(flat.rate, places=None, plain=True)


class PlanFormReader:
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
            return typed_amount(text)
        except DomainError as exc:
            self.add(field, str(exc))
            return None

    def rate(self, field, required=True):
        text = (field.data or "").strip()
        if not text:
            if required:
                self.add(field, _("Champ obligatoire."))
            return None
        try:
            return typed_percent(text)
        except DomainError as exc:
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
            year = parse_int(year_text, minimum=1000, maximum=9999)
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
        match = re.fullmatch(r"plan\.(costs|resources|flat_rates)\[([0-9]+)\](?:\.(\w+))?", path)
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
        if not plan_error.problems:  # a refusal of the whole amendment (closed, already pending)
            self.add(None, str(plan_error))
        for found in plan_error.problems:
            field = self.field_for(found.field or "")
            message = found.message
            self.add(field, message if field is not None else f"{_path_label(found.field or '')} : {message}")

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


def organisation_choices():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [SelectChoice("", "—")] + [SelectChoice(str(o.id), o.name + (f" ({o.siret})" if o.siret else "")) for o in organisations]


def envelope_choices():
    envelopes = db.session.scalars(select(Envelope).order_by(Envelope.code)).all()
    return [SelectChoice("", _("Aucune"))] + [SelectChoice(str(e.id), f"{e.code} — {e.name}") for e in envelopes]
