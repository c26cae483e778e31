"""What every domain's commands share about operations."""
from ..kernel.transactions import fail
from .models import Operation
from .services import find_operation


def operation_or_fail(code: str) -> Operation:
    """The operation CODE (whatever the case), or ``Erreur : opération inconnue « CODE ».``
    and exit 1 (README, "Command line")."""
    operation = find_operation(code)
    if operation is None:
        fail([f"opération inconnue « {code} »."])
    return operation
