"""``GET /sante``: 200 when the database answers and its schema is at the migrations' head,
503 otherwise. The body says only that (for a load balancer or a monitor): no version, no
revision, no error text."""
import logging
import re
from functools import lru_cache

from flask import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .migrations import MIGRATIONS_DIR

log = logging.getLogger("budget_app.health")


REVISION = re.compile(r"""^revision\s*(?::\s*str)?\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)
DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)


@lru_cache(maxsize=1)
def migration_heads() -> frozenset:
    """The head revision(s) of migrations/versions, read from the files' ``revision`` and
    ``down_revision`` lines: alembic itself (12 MB) stays out of the web workers."""
    revisions, parents = set(), set()
    for path in MIGRATIONS_DIR.glob("versions/*.py"):
        source = path.read_text(encoding="utf-8")
        found = REVISION.search(source)
        if found:
            revisions.add(found.group(1))
            down = DOWN_REVISION.search(source)
            parents.update(re.findall(r"""['"]([^'"]+)['"]""", down.group(1)) if down else ())
    return frozenset(revisions - parents)


def database_ready() -> bool:
    try:
        # The request's own session: on SQLite a request's transaction holds the write lock
        # (BEGIN IMMEDIATE), so a second connection would wait for it.
        current = frozenset(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("event=health_database_unavailable error=%s", type(error).__name__)
        return False
    if current != migration_heads():
        log.warning("event=health_schema_not_at_head")
        return False
    return True


def health() -> Response:
    if database_ready():
        return Response("OK", status=200, mimetype="text/plain")
    return Response("Service Unavailable", status=503, mimetype="text/plain")
