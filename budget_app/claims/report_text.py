"""The words of a claim's documents that are not figures: the title block of every sheet
and of the PDF, what the document is, and the resources rows (moved out of ``report``,
which reads them from here). In French: the document that is sent."""
from ..kernel.formatting import format_day, today_in_paris
from ..operations.models import RESOURCE_KINDS
from .models import BILAN_KINDS, CLAIM_STATES


def resource_rows(report):
    """Planned resources, and for this claim: FSE+ asked, the rest financed by the beneficiary."""
    plan = report.operation.current_plan
    if plan is not None:
        for resource in plan.resources:
            yield (resource_label(resource.kind, resource.name), resource.amount, None)
    yield ("FSE+", None, report.figures.fse_asked)
    yield ("Autofinancement et autres cofinancements", None, report.figures.total - report.figures.fse_asked)
    yield ("Total des ressources", None, report.figures.total)


def resource_label(kind: str, name: str) -> str:
    """"FSE+", not "FSE+ — FSE+": the name is added only when it says more than the kind."""
    kind_label = RESOURCE_KINDS.get(kind, kind)
    name = (name or "").strip()
    if not name or name.casefold() == kind_label.casefold():
        return kind_label
    return f"{kind_label} — {name}"


def document_label(claim) -> str:
    """What a document is, in the words of the screens (one word per thing): « Bilan
    intermédiaire n° 1 », « Bilan final n° 2 », or the état récapitulatif of a period that
    no bilan holds. In French: the document that is sent."""
    if claim is None:
        return "État récapitulatif des dépenses"
    return f"{BILAN_KINDS.get(claim.kind, BILAN_KINDS['interim'])} n° {claim.number}"


def title_lines(report) -> tuple[str, str]:
    """The title block of every sheet and of the PDF: what, for whom, which period, in which
    state, issued when (Europe/Paris). In French: the document that is sent."""
    operation, claim = report.operation, report.claim
    what = document_label(claim) if claim is not None else f"{document_label(None)} (calcul, non enregistré)"
    title = f"{what} — {operation.code} — {operation.title}"
    beneficiary = operation.organisation.name if operation.organisation else ""
    subtitle = (f"Bénéficiaire : {beneficiary} · Période du {format_day(report.start, 'fr')} au "
                f"{format_day(report.end, 'fr')} · État : {CLAIM_STATES[report.state]} · "
                f"Émis le {format_day(today_in_paris(), 'fr')}")
    return title, subtitle
