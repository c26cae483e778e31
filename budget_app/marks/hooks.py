"""What claims tell the readers of a mark about the bilan it names (``kernel.hooks``, wired
in ``create_app``). Only wording hangs on them: whether a line is frozen is the mark itself,
so an unwired hook never frees a line (its answer when nothing is registered is the
closed one)."""
from sqlalchemy import case, literal, null

from ..kernel.hooks import Hook

# Bilan id -> (number, state label), to name the bilan a line is declared in.
bilan_numbers = Hook("marks.bilan_numbers", closed=lambda bilan_ids: {})

# A SQL expression: the state of the bilan whose id is the given column (the expense list's
# "state" column and filter). Unwired, a declared line reads "in a bilan".
bilan_state = Hook("marks.bilan_state",
                   closed=lambda bilan_id_column: case((bilan_id_column.is_not(None), literal("submitted")), else_=null()))

# Alerts: for the anti-fraud referent only (the caller checks the reader may see it), the
# real reason of the held lines among ``line_ids`` that a suspicion holds: {id: wording}.
# Everyone else reads the wording of any hold (``services.HOLD_LABEL``).
held_reasons_for_referent = Hook("marks.held_reasons_for_referent", closed=lambda line_type, line_ids: {})
