"""Command line of the bilans: every step of a bilan's life, so that it can be scripted and
checked (`flask --app budget_app bilans ...`, `advances record`), its evidence pack, and
the holds that keep a line out of every new bilan. Each command is all or nothing: a
refusal prints `Erreur : …`, writes nothing and exits with 1. The older `claims pack`,
`claims hold`, `claims release` and `claims advance` still work (``claims/cli.py``)."""
import json
from decimal import Decimal
from pathlib import Path

import click
from flask.cli import AppGroup

from ..accounts.policy import may
from ..accounts.services import find_user
from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_money, today_in_paris
from ..kernel.i18n import N_, translate, translate_label
from ..kernel.money import cents, parse_amount, parse_day, rate
from ..kernel.transactions import command_transaction
from ..operations.models import FLAT_RATES
from ..operations.unit_lines import CLAIM_CATEGORIES
from ..operations.plans import payment_deadline
from ..operations.services import find_operation
from . import control, decisions, holds, lifecycle, payments
from .advances import record_advance
from .bilans import bilan_label, final_deadline, late_submission, warnings
from .computation import ClaimFigures
from .control import retained_figures
from .left_out import left_out_summary
from .models import CLAIM_STATES
from .pack import write_pack
from .selection import declared_figures
from .statements_cli import written

bilans_cli = AppGroup("bilans", help="Bilans intermédiaires et final : création, dépôt, contrôle, paiement.")
advances_cli = AppGroup("advances", help="Avances FSE+.")


def _operation(code):
    operation = find_operation(code)
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    return operation


def _bilan(code, number):
    operation = _operation(code)
    claim = lifecycle.claim_for_number(operation, number)
    if claim is None:
        raise DomainError(N_("L'opération %(code)s n'a pas de bilan n° %(number)s."), code=code, number=number)
    return claim


def _day(text):
    return parse_day(text)


def _controller(email, operation, endpoint):
    """The user named by --as: a controller of the operation who may do this step (the DACI
    is checked by the service itself)."""
    user = find_user(email or "")
    if user is None or not user.is_active:
        raise DomainError(N_("Compte inconnu ou désactivé : %(email)s."), email=email)
    if not may(endpoint, "POST", operation=operation, user=user):
        raise DomainError(N_("%(email)s ne peut pas contrôler les bilans de l'opération %(code)s (rôle ou affectation)."),
                          email=email, code=operation.code)
    return user


@bilans_cli.command("create")
@click.argument("code")
@click.option("--from", "start", required=True, help="Début AAAA-MM-JJ ou JJ/MM/AAAA.")
@click.option("--to", "end", required=True, help="Fin AAAA-MM-JJ ou JJ/MM/AAAA.")
@click.option("--final", is_flag=True, help="Le bilan final (il se termine à la fin de l'opération).")
@command_transaction
def create_command(code, start, end, final):
    """Crée un bilan (brouillon) sur la période."""
    operation = _operation(code)
    claim = lifecycle.create_draft(operation, _day(start), _day(end), final=final)
    click.echo(f"{bilan_label(claim)} créé (brouillon) : {operation.code} du {format_day(claim.period_start)} "
               f"au {format_day(claim.period_end)}.")


@bilans_cli.command("submit")
@click.argument("code")
@click.argument("number", type=int)
@command_transaction
def submit_command(code, number):
    """Dépose le bilan : ses lignes et ses montants sont figés."""
    claim = _bilan(code, number)
    summary = left_out_summary(claim, today_in_paris())  # no cost lost silently: said, not asked
    lifecycle.submit_claim(claim, today=today_in_paris())
    click.echo(f"{bilan_label(claim)} déposé : total {format_money(claim.total_eligible)}, "
               f"FSE+ demandé {format_money(claim.fse_asked)}.")
    if summary.count:
        click.echo(f"Lignes laissées de côté : {summary.count}, total {format_money(summary.total)}"
                   f"{' (bilan final : elles ne pourront plus être déclarées)' if claim.kind == 'final' else ''} :")
        for line in summary.lines():
            click.echo(f"  {line}")
    late = late_submission(claim)
    if late is not None:
        click.echo(f"Attention : {late}")


@bilans_cli.command("control")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--decisions", "path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Fichier CSV ou XLSX : Ligne, Décision, Montant retenu, Motif, Commentaire.")
@click.option("--as", "email", required=True, help="Courriel du contrôleur (titulaire d'une DACI en vigueur).")
@command_transaction
def control_command(code, number, path, email):
    """Enregistre les décisions du contrôle de service fait (tout ou rien)."""
    claim = _bilan(code, number)
    user = _controller(email, claim.operation, "claims.decide")
    audit.note_for_changes(f"bilans control --as {user.email} --decisions {path.name}")
    count = decisions.apply_decisions(claim, path.read_bytes(), user)
    click.echo(f"{count} décision(s) enregistrée(s) sur le {bilan_label(claim)} de {claim.operation.code}.")


@bilans_cli.command("finish")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--as", "email", required=True, help="Courriel du contrôleur (titulaire d'une DACI en vigueur).")
@command_transaction
def finish_command(code, number, email):
    """Termine le contrôle : lignes non décidées retenues, FSE+ dû, avance récupérée."""
    claim = _bilan(code, number)
    user = _controller(email, claim.operation, "claims.finish_control")
    audit.note_for_changes(f"bilans finish --as {user.email}")
    control.finish_control(claim, user)
    click.echo(f"{bilan_label(claim)} contrôlé : retenu {format_money(claim.total_retained)}, "
               f"FSE+ dû {format_money(claim.fse_due)}, paiement attendu "
               f"{format_money(payments.expected_payment(claim))}.")


@bilans_cli.command("sample")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--as", "email", required=True, help="Courriel du contrôleur (titulaire d'une DACI en vigueur).")
@command_transaction
def sample_command(code, number, email):
    """Tire l'échantillon du contrôle (opération contrôlée par échantillon) : graine affichée."""
    claim = _bilan(code, number)
    user = _controller(email, claim.operation, "claims.draw_sample")
    positions = control.draw_sample(claim, user)
    click.echo(f"{bilan_label(claim)} : échantillon tiré, graine {claim.sample_seed}, "
               f"lignes {', '.join(str(position) for position in sorted(positions))}.")


@bilans_cli.command("pay")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--amount", required=True, help="Montant reçu, ex. 3 692,00 ; un reversement (bilan final) en négatif, ex. -6 600,00.")
@click.option("--date", "paid_on", required=True, help="Date du paiement (JJ/MM/AAAA ou AAAA-MM-JJ).")
@click.option("--reference", default=None, help="Référence du virement.")
@click.option("--overpayment", is_flag=True,
              help="L'organisme payeur a versé plus que le paiement attendu : l'excédent est déduit du paiement suivant.")
@command_transaction
def pay_command(code, number, amount, paid_on, reference, overpayment):
    """Enregistre le paiement reçu pour un bilan contrôlé (un écart avec le paiement attendu est reporté sur le suivant)."""
    claim = _bilan(code, number)
    payments.record_payment(claim, _day(paid_on), parse_amount(amount, allow_negative=True), reference,
                            overpayment=overpayment)
    click.echo(f"{bilan_label(claim)} payé : {format_money(claim.amount_paid)} le {format_day(claim.paid_on)}.")


def _money(value):
    return None if value is None else format(cents(value), "f")


def _figures_json(figures: ClaimFigures | None) -> dict | None:
    if figures is None:
        return None
    return {
        "categories": {code: _money(amount) for code, amount in figures.categories.items()},
        "flat_rates": {code: _money(amount) for code, amount in figures.flat_rates.items()},
        "flat_rates_applied": {code: {"rate": format(rate(applied.rate), "f"), "base": _money(applied.base),
                                      "ceiling": format(rate(applied.ceiling), "f"), "amount": _money(applied.amount),
                                      "text": figures.applied_text(code)}
                               for code, applied in figures.applied_flat_rates.items()},
        "total": _money(figures.total),
        "fse_rate": format(figures.fse_rate, "f"),
        "over_plan": _money(figures.over_plan),
        "fse_computed": _money(figures.fse_computed),
        "fse_already_asked": _money(figures.fse_already_asked),
        "fse_cap_excess": _money(figures.fse_cap_excess),
        "fse": _money(figures.fse_asked),
        "fse_remaining": _money(figures.fse_remaining),
        "agreed_fse": _money(figures.agreed_fse),
    }


def bilan_json(claim) -> dict:
    """Every figure of a bilan; amounts as strings with two decimals, the rate in percent
    with four, dates ISO."""
    operation = claim.operation
    retained = retained_figures(claim) if claim.state in ("controlled", "paid") else None
    return {
        "operation": operation.code,
        "number": claim.number,
        "kind": claim.kind,
        "state": claim.state,
        "start": claim.period_start.isoformat(),
        "end": claim.period_end.isoformat(),
        "submitted_on": claim.submitted_at.date().isoformat() if claim.submitted_at else None,
        "payment_deadline": payment_deadline(operation).isoformat(),
        "final_deadline": final_deadline(operation).isoformat() if claim.kind == "final" else None,
        "declared": _figures_json(declared_figures(claim)),
        "retained": _figures_json(retained),
        "total_eligible": _money(claim.total_eligible),
        "fse_asked": _money(claim.fse_asked),
        "total_retained": _money(claim.total_retained),
        "fse_due": _money(claim.fse_due),
        "advance_recovered": _money(claim.advance_recovered),
        "carried_forward": _money(payments.carried_payment(claim)),
        "payment_expected": _money(payments.expected_payment(claim)),
        "amount_paid": _money(claim.amount_paid),
        "paid_on": claim.paid_on.isoformat() if claim.paid_on else None,
        "warnings": [str(warning) for warning in warnings(operation, today_in_paris())],
    }


@bilans_cli.command("show")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (montants en chaînes à deux décimales).")
@command_transaction
def show_command(code, number, as_json):
    """Affiche les chiffres d'un bilan."""
    claim = _bilan(code, number)
    data = bilan_json(claim)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{operation_line(claim)}")
    for title, figures in ((translate(N_("Déclaré")), declared_figures(claim)),
                           (translate(N_("Retenu après contrôle")), retained_figures(claim)
                            if claim.state in ("controlled", "paid") else None)):
        if figures is not None:
            click.echo(f"{title} :")
            for label, amount in _figure_lines(figures):
                click.echo(f"  {label:<48} {format_money(amount):>18}" if amount is not None else f"  {label}")
    for key, label in SUMMARY_LINES:
        if data[key] is not None:
            click.echo(f"  {translate(label):<48} {format_money(Decimal(data[key])):>18}")
    for warning in data["warnings"]:
        click.echo(f"Attention : {warning}")


# The stored amounts of a bilan, in the order of its life (text output of `bilans show`).
SUMMARY_LINES = (
    ("total_eligible", N_("Coût total éligible déclaré")), ("fse_asked", N_("FSE+ demandé")),
    ("total_retained", N_("Coût total retenu")), ("fse_due", N_("FSE+ dû")),
    ("advance_recovered", N_("Avance récupérée")),
    ("carried_forward", N_("Report des paiements précédents (manque + / trop-perçu −)")), ("payment_expected", N_("Paiement attendu")),
    ("amount_paid", N_("Montant payé")),
)


def _figure_lines(figures: ClaimFigures):
    """Each category and flat rate by its label, then the total and the FSE+ share."""
    for code, amount in figures.categories.items():
        yield translate_label(CLAIM_CATEGORIES, code), amount
    for code, amount in figures.flat_rates.items():
        yield translate(FLAT_RATES[code][0]).split(",")[0] if code in FLAT_RATES else code, amount
        yield "  " + figures.applied_text(code), None
    yield translate(N_("Total éligible")), figures.total
    yield translate(N_("FSE+ (%(rate)s %%)"), rate=format(figures.fse_rate.normalize(), "f")), figures.fse_asked


def operation_line(claim) -> str:
    return (f"{claim.operation.code} — {bilan_label(claim)} du {format_day(claim.period_start)} au "
            f"{format_day(claim.period_end)} ({translate_label(CLAIM_STATES, claim.state)})")


@bilans_cli.command("pack")
@click.argument("code")
@click.argument("number", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@command_transaction
def pack_command(code, number, output):
    """Dossier de preuves du bilan NUMBER (ZIP) : bilan en XLSX et PDF, pièces, fiches
    de temps et calculs, décisions du contrôle, manifeste (SHA-256, taille, ligne)."""
    claim = _bilan(code, number)
    tmp = output.with_name(output.name + ".part")
    with written(tmp, output):
        result = write_pack(claim, tmp)
    audit.record("claim_pack", "claims", claim.id, after={
        "file": output.name, "files": result.files, "missing": len(result.missing), "altered": len(result.altered),
    })
    db.session.commit()
    click.echo(f"{output} : {bilan_label(claim)} de {claim.operation.code}, {result.files} fichier(s) au manifeste.")
    for name in result.missing:
        click.echo(f"Erreur : pièce absente du stockage : {name}", err=True)
    for name in result.altered:
        click.echo(f"Erreur : pièce dont le contenu ne correspond plus au SHA-256 enregistré : {name}", err=True)
    if not result.complete:
        raise SystemExit(1)


def _held_line(expense, staff_line):
    if (expense is None) == (staff_line is None):
        raise DomainError(N_("indiquez --expense N ou --staff-line N (l'un des deux)."))
    return ("expense", expense) if expense is not None else ("staff_cost_line", staff_line)


@bilans_cli.command("hold")
@click.argument("code")
@click.option("--expense", type=int, default=None, help="Numéro de la dépense.")
@click.option("--staff-line", "staff_line", type=int, default=None, help="Numéro de la ligne de frais de personnel.")
@click.option("--reason", required=True, help="Motif (ex. « Facture illisible : original demandé »).")
@command_transaction
def hold_command(code, expense, staff_line, reason):
    """Met une ligne en attente : elle reste hors de tout nouveau bilan jusqu'à sa levée
    (autorité de gestion : pièce à compléter, vérification en cours)."""
    line_type, line_id = _held_line(expense, staff_line)
    holds.place_hold(_operation(code), line_type, line_id, reason)
    click.echo(f"{code} : ligne {line_id} en attente.")


@bilans_cli.command("release")
@click.argument("code")
@click.option("--expense", type=int, default=None, help="Numéro de la dépense.")
@click.option("--staff-line", "staff_line", type=int, default=None, help="Numéro de la ligne de frais de personnel.")
@click.option("--reason", required=True, help="Motif de la levée.")
@command_transaction
def release_command(code, expense, staff_line, reason):
    """Lève la mise en attente d'une ligne : le prochain bilan la reprend."""
    line_type, line_id = _held_line(expense, staff_line)
    holds.release_hold(_operation(code), line_type, line_id, reason)
    click.echo(f"{code} : ligne {line_id} remise dans les bilans.")


@advances_cli.command("record")
@click.argument("code")
@click.option("--amount", required=True, help="Montant, ex. 26 700,00.")
@click.option("--date", "paid_on", required=True, help="Date de versement (JJ/MM/AAAA ou AAAA-MM-JJ).")
@click.option("--note", default=None)
@command_transaction
def record_command(code, amount, paid_on, note):
    """Enregistre une avance FSE+ versée à l'opération (plafond : taux d'avance × FSE+ conventionné)."""
    operation = _operation(code)
    advance = record_advance(operation, _day(paid_on), parse_amount(amount), note)
    click.echo(f"Avance de {format_money(advance.amount)} du {format_day(advance.paid_on)} enregistrée pour {operation.code}.")


COMMANDS = [bilans_cli, advances_cli]
