"""Geometry of the server-rendered SVG charts (templates/reporting/_charts.html).

No JavaScript and no style attributes (CSP): colours are SVG presentation attributes.
Each chart is drawn beside a table holding the same figures."""
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..kernel.money import round_places

WIDTH = 640
LABEL_WIDTH = 150
BAR_AREA = 470
BAR_HEIGHT = 14
GROUP_GAP = 12

BLUE, GREY, GREEN, ORANGE, RED = "#000091", "#929292", "#18753c", "#b34000", "#c9191e"


def _scale(value: Decimal, maximum: Decimal) -> str:
    if maximum <= 0 or value <= 0:
        return "0"
    return str(round_places(Decimal(value) * BAR_AREA / maximum, 1))


def bar_chart(title, groups, series):
    """groups: [(label, {series_key: value})]; series: [(key, label, colour)]."""
    maximum = max((value for _, values in groups for value in values.values()), default=Decimal(0))
    bars, labels = [], []
    y = 30
    for label, values in groups:
        labels.append({"x": LABEL_WIDTH - 8, "y": y + BAR_HEIGHT * len(series) / 2 + 4, "text": label})
        for key, series_label, colour in series:
            value = values.get(key, Decimal(0))
            bars.append({"x": LABEL_WIDTH, "y": y, "width": _scale(value, maximum), "height": BAR_HEIGHT - 2,
                         "fill": colour, "title": f"{series_label} : {value}"})
            y += BAR_HEIGHT
        y += GROUP_GAP
    legend = [{"x": LABEL_WIDTH + i * 120, "label": label, "fill": colour} for i, (_, label, colour) in enumerate(series)]
    return {"title": title, "width": WIDTH, "height": y + 4, "bars": bars, "labels": labels, "legend": legend}


# Short labels for the chart's rows (the table beside it gives the full names): never codes.
SHORT_LABELS = {
    "PERSONNEL": _l("Personnel"),
    "FONCTIONNEMENT": _l("Fonctionnement"),
    "PRESTATIONS": _l("Prestations"),
    "PARTICIPANTS": _l("Participants"),
    "NATURE": _l("En nature"),
    "SIMPLIFIES": _l("Coûts unitaires et forfaits"),
    "INDIRECTS_7": _l("Coûts indirects (7 %)"),
    "INDIRECTS_15": _l("Coûts indirects (15 %)"),
    "INDIRECTS_25": _l("Coûts indirects (25 %)"),
    "RESTANTS_40": _l("Coûts restants (40 %)"),
    "PERSONNEL_20": _l("Personnel forfaitaire (20 %)"),
}


def short_label(code) -> str:
    label = SHORT_LABELS.get(code)
    return str(label) if label is not None else str(code)


def dashboard_charts(progress):
    series = [("planned", _l("Prévu"), BLUE), ("realised", _l("Réalisé"), GREEN), ("forecast", _l("Projection"), GREY)]
    groups = []
    for row in progress.rows:
        groups.append((short_label(row["code"]), {k: row[k] for k in ("planned", "realised", "forecast")}))
    groups.append((gettext("Total"), {"planned": progress.planned_total, "realised": progress.realised_total,
                                      "forecast": progress.forecast_total}))
    costs = bar_chart(_l("Prévu, réalisé et projection au rythme actuel"), groups, series)

    consumed_colour = ORANGE if progress.pace_warning else GREEN
    time = bar_chart(
        _l("Temps écoulé et budget consommé (%)"),
        [(gettext("Temps écoulé"), {"v": progress.elapsed_percent}),
         (gettext("Budget consommé"), {"v": progress.consumed_percent}),
         (gettext("Échelle 100 %"), {"v": Decimal(100)})],
        [("v", "%", BLUE)],
    )
    time["bars"][1]["fill"] = consumed_colour
    time["bars"][2]["fill"] = "#dddddd"
    time["legend"] = []

    fse = bar_chart(
        _l("FSE+ conventionné, demandé, versé, restant"),
        [(gettext("Conventionné"), {"v": progress.fse_agreed}),
         (gettext("Demandé"), {"v": progress.fse_asked}),
         (gettext("Versé"), {"v": progress.fse_paid}),
         (gettext("Restant à verser"), {"v": max(progress.fse_remaining, Decimal(0))})],
        [("v", "€", BLUE)],
    )
    fse["legend"] = []
    return {"costs": costs, "time": time, "fse": fse}


def envelope_chart(figures):
    chart = bar_chart(
        _l("Enveloppe, programmé, demandé, versé, disponible"),
        [(gettext("Enveloppe"), {"v": figures.envelope.fse_amount}),
         (gettext("Programmé"), {"v": figures.programmed}),
         (gettext("Demandé"), {"v": figures.claimed}),
         (gettext("Versé"), {"v": figures.paid}),
         (gettext("Disponible"), {"v": max(figures.remaining, Decimal(0))})],
        [("v", "€", BLUE)],
    )
    chart["legend"] = []
    return chart
