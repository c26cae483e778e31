"""URLs of one endpoint for the many ids of a list: ``url_for`` once, not once a row.

``url_for`` runs the URL defaults (the operation's code) and Werkzeug's builder, some tens
of microseconds each time; a page of 50 lines with a link each pays it 50 times for URLs
that differ only by the id. ``id_urls`` builds the URL of a sentinel id once and returns a
function that puts each id in its place; when the sentinel cannot be found exactly once in
the URL (it never should), each id goes through ``url_for``.

    >>> detail = id_urls("expenses.detail", "expense_id")   # in a request of LOT-2019-ACI
    >>> detail(12)
    '/operations/LOT-2019-ACI/depenses/12'
"""
from collections.abc import Callable

from flask import url_for

from .integers import MAX_ID, parse_id

SENTINEL = str(MAX_ID - 1)


def id_urls(endpoint: str, key: str, **values) -> Callable[[int], str]:
    sample = url_for(endpoint, **{key: int(SENTINEL)}, **values)
    if sample.count(SENTINEL) != 1:
        return lambda row_id: url_for(endpoint, **{key: row_id}, **values)
    head, _, tail = sample.partition(SENTINEL)

    def url(row_id) -> str:
        number = parse_id(row_id)
        if number is None:  # what url_for would refuse to build
            return url_for(endpoint, **{key: row_id}, **values)
        return f"{head}{number}{tail}"

    return url
