"""The operation file (TOML): the fixtures of ``fixtures/`` and ``operations load FILE``.

Parsing turns the file into service inputs and names the field of every problem
(``plan.costs[2].amount : montant invalide``); the rules themselves are in rules.py,
so the file, the form and the CLI cannot disagree. Nothing is written unless the whole
file is valid. Decimal numbers are read as Decimal, never float.
"""
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ..kernel.audit.services import record
from ..kernel.errors import DomainError
from ..kernel.i18n import N_, translate
from ..kernel.money import cents, has_places, parse_amount, parse_day, parse_decimal
from ..kernel.siret import normalise_siret
from ..kernel.text import control_character
from .rules import (
    CostLine,
    EnvelopeInput,
    FlatRateLine,
    OperationInput,
    OrganisationInput,
    PlanInput,
    ResourceLine,
    problem,
)
from .services import (
    create_operation,
    ensure_envelope,
    find_operation,
    record_amendment,
    same_plan,
)

# Said by `flask seed` when a fixture's operation exists with another plan.
SEED_KEPT = N_("%(file)s : opération déjà présente avec un autre plan, laissée telle quelle.")

TOP_KEYS = {"demo", "organisation", "envelope", "operation", "plan"}


class _Reader:
    def __init__(self):
        self.errors = []

    def error(self, path, message, **values):
        self.errors.append(problem(path, message, **values))

    def table(self, data, path, required=True):
        value = data.get(path.rsplit(".", 1)[-1]) if isinstance(data, dict) else None
        if value is None:
            if required:
                self.error(path, N_("section manquante"))
            return None
        if not isinstance(value, dict):
            self.error(path, N_("une section [%(name)s] est attendue"), name=path)
            return None
        return value

    def unknown(self, data, allowed, path):
        for key in data:
            if key not in allowed:
                self.error(f"{path}.{key}" if path else key, N_("champ inconnu"))

    def text(self, data, key, path, required=True):
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", N_("champ obligatoire"))
            return None
        if not isinstance(value, str):
            self.error(f"{path}.{key}", N_("texte attendu"))
            return None
        found = control_character(value)
        if found:
            # U+000B or U+0000 in a title was rendered raw on pages and broke every export
            # (CHECKLIST §5): refused like in a form or an import.
            self.error(f"{path}.{key}", N_("caractère de contrôle interdit (%(char)s)"), char=found)
            return None
        return value.strip() or None if not required else value.strip()

    def day(self, data, key, path, required=True):
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", N_("champ obligatoire"))
            return None
        if isinstance(value, datetime):
            self.error(f"{path}.{key}", N_("date sans heure attendue (AAAA-MM-JJ)"))
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return parse_day(value)
            except DomainError:
                pass
        self.error(f"{path}.{key}", N_("date invalide (AAAA-MM-JJ ou JJ/MM/AAAA)"))
        return None

    def amount(self, data, key, path, required=True):
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", N_("champ obligatoire"))
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            self.error(f"{path}.{key}", N_("montant invalide"))
            return None
        if isinstance(value, Decimal):
            # A TOML number: exact already; "1234.500" is not ambiguous here, only too precise.
            if not has_places(value, 2):
                self.error(f"{path}.{key}", N_("montant invalide (plus de deux décimales)"))
                return None
            value = format(cents(value), "f")
        try:
            return parse_amount(value)
        except DomainError as exc:
            self.error(f"{path}.{key}", N_("montant invalide (%(detail)s)"), detail=str(exc))
            return None

    def rate(self, data, key, path, required=True, default=None):
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", N_("champ obligatoire"))
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            self.error(f"{path}.{key}", N_("taux invalide (en pourcentage, ex. 60 ou \"60,5\")"))
            return default
        try:
            return parse_decimal(value, places=4, maximum=Decimal("100"))
        except DomainError as exc:
            self.error(f"{path}.{key}", N_("taux invalide (%(detail)s)"), detail=str(exc))
            return default

    def integer(self, data, key, path, required=True, default=None):
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", N_("champ obligatoire"))
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(f"{path}.{key}", N_("nombre entier attendu"))
            return default
        return value

    def flag(self, data, key, path):
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", N_("true ou false attendu"))
            return False
        return value

    def rows(self, data, key, path):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            self.error(f"{path}.{key}", N_("une liste de tables [[%(name)s]] est attendue"), name=f"{path}.{key}")
            return []
        return value


@dataclass
class OperationFile:
    demo: bool
    organisation: OrganisationInput
    operation: OperationInput
    plan: PlanInput
    envelope: EnvelopeInput | None = None
    messages: list = field(default_factory=list)


def _organisation(reader, data, path):
    if data is None:
        return None
    reader.unknown(data, {"name", "kind", "siret", "address"}, path)
    siret = data.get("siret")
    if siret is not None and not isinstance(siret, str):
        reader.error(f"{path}.siret", N_("le SIRET s'écrit entre guillemets (14 chiffres)"))
        siret = None
    return OrganisationInput(
        name=reader.text(data, "name", path) or "",
        kind=reader.text(data, "kind", path) or "",
        siret=normalise_siret(siret),
        address=reader.text(data, "address", path, required=False),
    )


def parse_operation_file(text: str) -> OperationFile:
    """The file's content as service inputs; a DomainError naming every bad field."""
    reader = _Reader()
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise DomainError(problems=[problem("", N_("fichier TOML illisible : %(detail)s"), detail=str(exc))]) from exc
    reader.unknown(data, TOP_KEYS, "")
    demo = data.get("demo", False)
    if not isinstance(demo, bool):
        reader.error("demo", N_("true ou false attendu"))
        demo = False

    organisation = _organisation(reader, reader.table(data, "organisation"), "organisation")

    envelope = None
    env = reader.table(data, "envelope", required=False)
    if env is not None:
        reader.unknown(env, {"code", "name", "start_date", "end_date", "fse_amount", "organisation"}, "envelope")
        env_org = _organisation(reader, reader.table(env, "envelope.organisation"), "envelope.organisation")
        envelope = EnvelopeInput(
            code=reader.text(env, "code", "envelope") or "",
            name=reader.text(env, "name", "envelope") or "",
            start_date=reader.day(env, "start_date", "envelope"),
            end_date=reader.day(env, "end_date", "envelope"),
            fse_amount=reader.amount(env, "fse_amount", "envelope") or Decimal("0"),
            organisation=env_org,
        )

    op = reader.table(data, "operation") or {}
    reader.unknown(
        op,
        {"code", "title", "service", "start_date", "end_date", "fse_rate", "fse_amount", "advance_rate",
         "hours_divisor", "status", "last_payment_date", "fse_amount_fixed", "advance_override",
         "advance_override_reason", "advance_recovery", "payment_deadline", "salary_pay_delay",
         "csf_sample_percent", "csf_extrapolation"},
        "operation",
    )
    operation = OperationInput(
        code=reader.text(op, "code", "operation") or "",
        title=reader.text(op, "title", "operation") or "",
        service=reader.text(op, "service", "operation", required=False),
        start_date=reader.day(op, "start_date", "operation"),
        end_date=reader.day(op, "end_date", "operation"),
        fse_rate=reader.rate(op, "fse_rate", "operation", default=Decimal("0")) or Decimal("0"),
        fse_amount=reader.amount(op, "fse_amount", "operation") or Decimal("0"),
        advance_rate=reader.rate(op, "advance_rate", "operation", required=False, default=Decimal("0")),
        hours_divisor=reader.integer(op, "hours_divisor", "operation", required=False, default=1720),
        status=reader.text(op, "status", "operation", required=False) or "programmed",
        last_payment_date=reader.day(op, "last_payment_date", "operation", required=False),
        fse_amount_fixed=reader.flag(op, "fse_amount_fixed", "operation"),
        advance_override=reader.flag(op, "advance_override", "operation"),
        advance_override_reason=reader.text(op, "advance_override_reason", "operation", required=False),
        advance_recovery=reader.text(op, "advance_recovery", "operation", required=False) or "interim",
        payment_deadline=reader.day(op, "payment_deadline", "operation", required=False),
        salary_pay_delay=reader.integer(op, "salary_pay_delay", "operation", required=False, default=0),
        csf_sample_percent=reader.rate(op, "csf_sample_percent", "operation", required=False),
        csf_extrapolation=reader.flag(op, "csf_extrapolation", "operation"),
    )

    plan_data = reader.table(data, "plan") or {}
    reader.unknown(plan_data, {"amendment_number", "signed_on", "costs", "flat_rates", "resources"}, "plan")
    plan = PlanInput(
        amendment_number=reader.text(plan_data, "amendment_number", "plan", required=False),
        signed_on=reader.day(plan_data, "signed_on", "plan", required=False),
    )
    for index, row in enumerate(reader.rows(plan_data, "costs", "plan"), start=1):
        path = f"plan.costs[{index}]"
        reader.unknown(row, {"category", "year", "amount"}, path)
        amount = reader.amount(row, "amount", path)
        year = reader.integer(row, "year", path)
        category = reader.text(row, "category", path)
        if amount is not None and year is not None and category is not None:
            plan.costs.append(CostLine(category, year, amount))
    for index, row in enumerate(reader.rows(plan_data, "flat_rates", "plan"), start=1):
        path = f"plan.flat_rates[{index}]"
        reader.unknown(row, {"code", "rate"}, path)
        code = reader.text(row, "code", path)
        rate = reader.rate(row, "rate", path)
        if code is not None and rate is not None:
            plan.flat_rates.append(FlatRateLine(code, rate))
    for index, row in enumerate(reader.rows(plan_data, "resources", "plan"), start=1):
        path = f"plan.resources[{index}]"
        reader.unknown(row, {"kind", "name", "amount"}, path)
        kind = reader.text(row, "kind", path)
        name = reader.text(row, "name", path)
        amount = reader.amount(row, "amount", path)
        if kind is not None and name is not None and amount is not None:
            plan.resources.append(ResourceLine(kind, name, amount))
    if reader.errors:
        raise DomainError(problems=reader.errors)
    return OperationFile(demo=demo, organisation=organisation, operation=operation, plan=plan, envelope=envelope)


@dataclass
class LoadResult:
    code: str
    action: str  # "created", "amended", "unchanged"
    version: int
    messages: list = field(default_factory=list)


def load_operation(text: str, amendment: str | None = None, source: str = "") -> LoadResult:
    """Create the operation of the file, or, for an existing code, record the file's plan as a new
    version when ``amendment`` (the reason) is given. Same plan again: nothing changes. Flushes."""
    parsed = parse_operation_file(text)
    op = parsed.operation
    existing = find_operation(op.code)
    if existing is None:
        if amendment:
            raise DomainError(problems=[problem("operation.code", N_("aucune opération %(code)s à modifier par avenant"), code=op.code)])
        envelope = None
        created_envelope = False
        if parsed.envelope is not None:
            envelope, created_envelope = ensure_envelope(parsed.envelope, demo=parsed.demo)
        operation = create_operation(op, parsed.organisation, parsed.plan, envelope=envelope, demo=parsed.demo)
        record("load", "operations", operation.id, after={"code": op.code, "source": source}, note="operations load")
        messages = []
        if created_envelope:
            messages.append(translate(N_("Enveloppe %(code)s créée."), code=envelope.code))
        messages.append(translate(N_("Opération %(code)s créée (plan version 1)."), code=op.code))
        return LoadResult(op.code, "created", 1, messages)

    current = existing.current_plan
    unchanged = (
        current is not None
        and same_plan(current, parsed.plan)
        and existing.fse_amount == op.fse_amount
        and existing.fse_rate == op.fse_rate
        and existing.end_date == op.end_date
        and existing.fse_amount_fixed == op.fse_amount_fixed
        and existing.payment_deadline == op.payment_deadline
    )
    if unchanged:
        return LoadResult(op.code, "unchanged", current.number,
                          [translate(N_("Opération %(code)s déjà à jour (plan version %(version)s) : rien à faire."),
                                     code=op.code, version=current.number)])
    if not amendment:
        raise DomainError(problems=[problem(
            "operation.code",
            N_("l'opération %(code)s existe déjà avec un autre plan : enregistrez un avenant avec --amendment \"motif\""),
            code=op.code)])
    plan = parsed.plan
    plan.reason = amendment
    version = record_amendment(existing, plan, end_date=op.end_date, fse_rate=op.fse_rate, fse_amount=op.fse_amount,
                               fse_amount_fixed=op.fse_amount_fixed, payment_deadline=op.payment_deadline)
    return LoadResult(op.code, "amended", version.number,
                      [translate(N_("Avenant enregistré pour %(code)s : plan version %(version)s."),
                                 code=op.code, version=version.number)])


def load_operation_file(path, amendment: str | None = None) -> LoadResult:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(problems=[problem("", N_("fichier illisible : %(detail)s"), detail=str(exc))]) from exc
    return load_operation(text, amendment=amendment, source=path.name)
