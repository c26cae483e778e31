"""Imports every model so that the metadata (and Alembic's autogenerate) sees them all."""
from .accounts.models import User, UserSession  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .operations.models import Operation, OperationMember  # noqa: F401
from .alerts.models import Alert, AlertAccess, AlertAttachment, AlertCostLine, AlertEvent, AlertMessage, DaciDeclaration  # noqa: F401
