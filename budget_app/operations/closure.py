"""A closed operation (status ``closed``) is read-only: no new or changed cost, timesheet,
staff row or amendment. Every service that writes one asks ``ensure_open``; pages show
``closed_problem``'s message as a banner (base template) instead of offering the action."""
from flask import g, request

from ..kernel.errors import DomainError
from ..kernel.i18n import N_

CLOSED = "closed"


def is_closed(operation) -> bool:
    return operation is not None and operation.status == CLOSED


def closed_problem(operation) -> DomainError | None:
    """Why nothing can be added to or changed on ``operation``, or None while it is open."""
    if not is_closed(operation):
        return None
    return DomainError(
        N_("L'opération %(code)s est clôturée : elle est en lecture seule. Aucune dépense, fiche de temps, "
           "ligne de personnel ni avenant ne peut y être ajouté ou modifié. Pour une correction, un "
           "administrateur doit d'abord la rouvrir (statut « En cours »)."),
        code=operation.code,
    )


def ensure_open(operation) -> None:
    problem = closed_problem(operation)
    if problem is not None:
        raise problem


def refuse_when_closed(blueprint, endpoints) -> None:
    """Pages of ``blueprint`` named in ``endpoints`` (add or change something on the
    operation of the URL) answer the closed-operation message instead of their form."""
    names = {f"{blueprint.name}.{endpoint}" for endpoint in endpoints}

    @blueprint.before_request
    def _refuse_when_closed():
        if request.endpoint in names:
            ensure_open(getattr(g, "operation", None))
