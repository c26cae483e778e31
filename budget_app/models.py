"""Imports every model so that the metadata (and Alembic's autogenerate) sees them all."""
from .accounts.models import User, UserSession  # noqa: F401
from .audit.models import AuditEntry  # noqa: F401
from .operations.models import (  # noqa: F401
    Envelope, Operation, OperationMember, Organisation, PlanCost, PlanFlatRate, PlanResource, PlanVersion,
)
from .claims.models import Advance, Claim, ClaimLine, ClaimStateChange  # noqa: F401
from .expenses.models import Expense, ExpenseMonthTotal, SupportingDocument  # noqa: F401
from .staff.models import AnnualCost, Person, StaffAssignment, StaffCostLine, Timesheet  # noqa: F401
# ---- alerts models (issue 7) ----
from .alerts.models import (  # noqa: F401
    Alert, AlertAccess, AlertAttachment, AlertCostLine, AlertEvent, AlertMessage, DaciDeclaration,
)
