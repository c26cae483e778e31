"""What the layers above tell the expenses domain, without being imported by it
(``kernel.hooks``). Claims and alerts register their answers when their modules load."""
from sqlalchemy import null

from ..kernel.hooks import Hook
from ..kernel.i18n import N_

# Claims: why an expense can no longer change (a DomainError: a submitted claim holds it),
# else None.
line_frozen = Hook("expenses.line_frozen")

# Claims: a SQL expression giving the state of the claim that holds a line, from
# ``Expense.claim_id`` (NULL when no claim holds it), for the list's "state" column.
claim_state = Hook("expenses.claim_state", default=lambda claim_id_column: null())

# Alerts: the ids of an operation's expenses under a live suspicion.
held_lines = Hook("expenses.held_lines", default=lambda operation_id: set())

# Claims: the ids of an operation's expenses the managing authority holds (a document to
# complete, a check under way); they read « En attente » like the lines above.
authority_held_lines = Hook("expenses.authority_held_lines", default=lambda operation_id: set())

# A held line (claims' reason "on_hold", the expense list's badge) reads the same whatever
# the hold, so it reveals no alert; only the anti-fraud referent sees the real reason.
HOLD_LABEL = N_("En attente")

# Alerts: the real reason of a line held by an alert, for the one reader allowed to see it
# (the anti-fraud referent); the expenses domain holds no word of it.
held_reason_for_referent = Hook("expenses.held_reason_for_referent", default=lambda: "")

# Staff: the other documents of an operation (staff evidence), purged with its supporting
# documents when its retention ends (CPR 82). Each answer gives (reference, document)
# pairs; a document has id, kind, original_name, sha256, size, uploaded_at, stored_name.
other_documents = Hook("expenses.other_documents", many=True)
