"""The participants import page (upload, preview, confirm: the house's import machinery)
and its XLSX template made from the importer's own columns (participants §6)."""
from pathlib import Path

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..kernel import staging
from ..kernel.errors import DomainError
from ..kernel.import_templates import XLSX_MIME, template_workbook
from .answers import COLUMNS
from .forms import CHOICES
from .imports import import_participants
from .views import bp

KIND = "participants"
EXAMPLE = {"code": "", "last_name": "Exemple-Un", "first_name": "Fictive", "birth_date": "10/02/1989",
           "commune": "Yssingeaux", "sex": "F", "entry_date": "06/03/2023", "employment_status": "chômeur",
           "unemployment_months": "18", "education_level": "3", "disability": "non", "third_country": "non",
           "foreign_background": "non", "homeless": "non", "rural": "oui", "exit_date": "29/09/2023",
           "exit_reason": "fin de parcours", "exit_situation": "emploi", "exit_situation_date": "12/10/2023",
           "qualification": "", "employed_6m": "oui", "improved_6m": ""}
HELP = {"code": "vide pour un nouveau participant ; son code pour le mettre à jour (réentrée, sortie, 6 mois)",
        "last_name": "obligatoire pour un nouveau participant", "first_name": "obligatoire pour un nouveau participant",
        "birth_date": "jj/mm/aaaa ou aaaa-mm-jj", "commune": "nom ou code INSEE",
        "sex": "X seulement si le paramétrage de l'opération l'admet",
        "unemployment_months": "mois entiers, seulement pour un chômeur", "education_level": "0 à 8",
        "exit_situation_date": "entre la sortie et sortie + 28 jours (sinon « inconnue »)",
        "employed_6m": "seulement une fois passés 6 mois après la sortie",
        "improved_6m": "seulement pour une personne en emploi à l'entrée"}


def _page(**context):
    return render_template("participants/import.html", operation=g.operation, columns=COLUMNS, **context)


@bp.route("/operations/<operation_code>/participants/import", methods=["GET", "POST"])
def import_participants_page():
    if request.method == "GET":
        staging.discard(KIND)  # « Annuler » comes back here: the staged file is dropped
        return _page()
    token = request.form.get("token")
    if token:
        return _confirm(token)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choisissez un fichier XLSX ou CSV."), "error")
        return _page()
    content = upload.read()
    filename = Path(upload.filename).name[:200]
    try:
        report = import_participants(g.operation, content, filename=filename, user=current_user, apply=False)
    except DomainError as refused:
        return _page(problems=refused.problems or [str(refused)], filename=filename), 422
    return _page(report=report, filename=filename,
                 token=staging.stage(KIND, g.operation.code, content, filename))


def _confirm(token):
    staged = staging.take(KIND, g.operation.code, token)
    if staged is None:
        flash(_("Cet aperçu n'est plus valable : déposez le fichier à nouveau."), "error")
        return redirect(url_for("participants.import_participants_page"))
    try:
        # Checked again: the data may have changed since the preview.
        report = import_participants(g.operation, staged.content, filename=staged.filename, user=current_user)
    except DomainError as refused:
        return _page(problems=refused.problems or [str(refused)], filename=staged.filename), 422
    flash(_("Import terminé : %(summary)s", summary=report.summary), "success")
    return redirect(url_for("participants.index"))


@bp.route("/operations/<operation_code>/participants/modele.xlsx")
def import_template():
    content = template_workbook(COLUMNS, set(), EXAMPLE, {key: CHOICES[key] for key in CHOICES if key in COLUMNS},
                                HELP, title="Participants")
    return Response(content, mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="modele-participants-{g.operation.code}.xlsx"'})
