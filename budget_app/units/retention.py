"""The evidence of units delivered and deliverables achieved is purged with the operation's
supporting documents when its retention ends (CPR 82), as staff evidence is: the expenses'
purge asks for the other documents of the operation (``expenses.hooks.other_documents``),
answered here with the staff documents and the units' evidence (wired in ``create_app``)."""
from sqlalchemy import select

from ..kernel.extensions import db
from ..staff.evidence import documents_for_purge as staff_documents
from .models import UnitEvidence, UnitRecord


def documents_for_purge(operation_id: int) -> list:
    """(reference, document): the staff documents, then each record's evidence."""
    rows = db.session.execute(
        select(UnitRecord.id, UnitEvidence).join(UnitEvidence, UnitEvidence.record_id == UnitRecord.id)
        .where(UnitRecord.operation_id == operation_id).order_by(UnitEvidence.id)
    ).all()
    return [*staff_documents(operation_id), *((f"relevé d'unités n° {record_id}", document)
                                              for record_id, document in rows)]
