"""What the layers above tell the staff domain, without being imported by it
(``kernel.hooks``). Claims register their answers when their modules load."""
from ..kernel.hooks import Hook

# Claims: why a staff cost line can no longer change (a DomainError naming the claim that
# holds it; ``what`` names the line for the message), else None.
line_frozen = Hook("staff.line_frozen")

# Claims: claim id -> claim number, to show which claim holds a line.
claim_numbers = Hook("staff.claim_numbers", default=lambda claim_ids: {})
