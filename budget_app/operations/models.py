from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..extensions import db


class OperationMember(Audited, db.Model):
    """A finance officer or controller assigned to an operation: they see only these."""

    __tablename__ = "operation_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)


class Operation(Audited, db.Model):
    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)

    members = relationship("User", secondary="operation_members", back_populates="operations", order_by="User.email")

    def __repr__(self):
        return f"<Operation {self.code}>"
