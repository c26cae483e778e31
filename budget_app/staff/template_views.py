"""XLSX templates of the staff and timesheet imports, made from the importers' columns."""
from flask import Response, g

from ..kernel.import_templates import XLSX_MIME, template_workbook
from .people import METHOD_FILE_NAMES, STAFF_COLUMNS, STAFF_REQUIRED
from .timesheets import TIMESHEET_COLUMNS, TIMESHEET_REQUIRED
from .views import bp

STAFF_EXAMPLE = {"registration_number": "A103", "last_name": "Martin", "first_name": "Claire",
                 "function": "Conseillère en insertion", "method": "horaire", "year": "2023",
                 "annual_cost": "41 280,00", "working_share": "100", "fixed_percent": "",
                 "monthly_cost": "", "monthly_hours": ""}
STAFF_HELP = {"method": "horaire : année et coût annuel chargé ; méthode B : année, coût mensuel et heures"
                        " mensuelles du contrat ; temps fixe : pourcentage de la lettre de mission",
              "year": "année du coût annuel (horaire) ou année d'effet du temps fixe",
              "annual_cost": "coût annuel chargé documenté (horaire seulement)",
              "working_share": "quotité de travail, 100 par défaut (horaire seulement)",
              "fixed_percent": "temps fixe seulement, entre 0 (exclu) et 100",
              "monthly_cost": "méthode B seulement (RPDC 55(2)(b)) : dernier coût mensuel chargé documenté",
              "monthly_hours": "méthode B seulement : heures de travail mensuelles du contrat, ex. 151,67"}
TIMESHEET_EXAMPLE = {"registration_number": "A103", "month": "01/2023", "hours_on_operation": "137,5",
                     "hours_worked": "151,67", "monthly_cost": "", "salary_paid_on": "31/01/2023"}
TIMESHEET_HELP = {"month": "mm/aaaa ou aaaa-mm", "hours_on_operation": "agents à l'heure (méthode A ou B)",
                  "hours_worked": "heures travaillées du mois (agents à l'heure, méthode A ou B)",
                  "monthly_cost": "agents à temps fixe : coût mensuel chargé",
                  "salary_paid_on": "jj/mm/aaaa ; vide : fin du mois + délai de paie de l'opération"}


def _download(content: bytes, name: str) -> Response:
    return Response(content, mimetype=XLSX_MIME,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{g.operation.code}.xlsx"'})


@bp.route("/operations/<operation_code>/personnel/modele.xlsx")
def staff_template():
    choices = {"method": list(METHOD_FILE_NAMES.values())}
    return _download(template_workbook(STAFF_COLUMNS, STAFF_REQUIRED, STAFF_EXAMPLE, choices, STAFF_HELP,
                                       title="Personnel"), "modele-personnel")


@bp.route("/operations/<operation_code>/fiches-de-temps/modele.xlsx")
def timesheets_template():
    return _download(template_workbook(TIMESHEET_COLUMNS, TIMESHEET_REQUIRED, TIMESHEET_EXAMPLE, {}, TIMESHEET_HELP,
                                       title="Fiches de temps"), "modele-fiches-de-temps")
