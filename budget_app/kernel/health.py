"""``GET /sante``: 200 when the database answers and its schema is at the migrations' head,
503 otherwise. The body says only that (for a load balancer or a monitor): no version, no
revision, no error text."""
import logging
from functools import lru_cache

from flask import Response
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .migrations import MIGRATIONS_DIR

log = logging.getLogger("budget_app.health")


@lru_cache(maxsize=1)
def migration_heads() -> frozenset:
    from alembic.script import ScriptDirectory  # alembic only in the processes that are asked

    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def database_ready() -> bool:
    from alembic.runtime.migration import MigrationContext

    try:
        with db.engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
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
