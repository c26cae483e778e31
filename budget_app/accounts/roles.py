"""The six roles. What each may do is declared in ``budget_app.access``."""
from ..kernel.i18n import N_

ADMIN = "admin"
FINANCE_OFFICER = "finance_officer"
CONTROLLER = "controller"
ANTIFRAUD_REFERENT = "antifraud_referent"
AUDITOR = "auditor"
# accompagnateur: enters and reads the participants of its operations (participants §5)
CASEWORKER = "caseworker"

ROLES = (ADMIN, FINANCE_OFFICER, CONTROLLER, ANTIFRAUD_REFERENT, AUDITOR, CASEWORKER)

ROLE_LABELS = {
    ADMIN: N_("Administrateur"),
    FINANCE_OFFICER: N_("Gestionnaire financier"),
    CONTROLLER: N_("Contrôleur"),
    ANTIFRAUD_REFERENT: N_("Référent anti-fraude"),
    AUDITOR: N_("Auditeur"),
    CASEWORKER: N_("Accompagnateur"),
}

# Roles that only see the operations they are assigned to (others get 404).
ASSIGNED_ONLY = frozenset({FINANCE_OFFICER, CONTROLLER, CASEWORKER})

# Roles whose login asks for a second factor (TOTP, RFC 6238), enrolled at their first login
# (ASVS 4.3.1); the others may turn it on.
SECOND_FACTOR_REQUIRED = frozenset({ADMIN, ANTIFRAUD_REFERENT})
