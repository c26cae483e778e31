"""What another domain answers to the expenses domain without being imported by it
(``kernel.hooks``, wired in ``create_app``)."""
from ..kernel.hooks import Hook

# Staff: the other documents of an operation (staff evidence), purged with its supporting
# documents when its retention ends (CPR 82): (reference, document) pairs; a document has
# id, kind, original_name, sha256, size, uploaded_at, stored_name. Unwired: none.
other_documents = Hook("expenses.other_documents", closed=lambda operation_id: [])
