"""What the layers above tell the operations domain, without being imported by it
(``kernel.hooks``): the retention of an operation's records (CPR art. 82, primer §7)
depends on its payments (claims) and on procedures under way (alerts)."""
from ..kernel.hooks import Hook

# Claims: the date of the final payment to the beneficiary (the payment of the claim that
# closes the operation), else None: until then the retention end is not known.
final_payment_date = Hook("operations.final_payment_date", closed=lambda operation: None)

# Alerts: True while a procedure concerns the operation (an alert on it is not closed): the
# records are kept longer (CPR 82: "interrupted ... in the case of legal proceedings").
# Callers never say why (an alert is known to the anti-fraud referent only). Unwired, every
# operation's retention reads as extended: nothing is purged.
retention_extended = Hook("operations.retention_extended", closed=lambda operation_id: True)

# Participants: personal data kept until the end of retention (CPR 82), then erased by
# `retention purge` with the documents. ``personal_data_left(operation_id)`` -> how many
# participants still hold personal data; ``erase_personal_data(operation, when)`` -> the
# manifest rows of what was erased ([kind, reference, what]). Unwired: nothing to erase.
personal_data_left = Hook("operations.personal_data_left", closed=lambda operation_id: 0)
erase_personal_data = Hook("operations.erase_personal_data", closed=lambda operation, when: [])

# Expenses: the operation page's « Documents de l'opération » section (agreement,
# amendments, publicity, procurement files linked to expenses: what the next bilan needs):
# the values ``templates/expenses/_operation_documents.html`` shows. Unwired: no section.
documents_panel = Hook("operations.documents_panel", closed=lambda operation: None)
