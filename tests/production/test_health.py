"""GET /sante: 200 when the database answers at the migrations' head, 503 otherwise, and the
body says nothing more than the status."""
from alembic.script import ScriptDirectory
from sqlalchemy import text

from budget_app import create_app
from budget_app.kernel.extensions import db
from budget_app.kernel.health import migration_heads
from budget_app.kernel.migrations import MIGRATIONS_DIR


def test_health_answers_200_at_head_without_login(client):
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_migration_heads_are_alembic_s():
    assert migration_heads() == frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def test_health_answers_503_when_the_schema_is_behind(app, client):
    (head,) = migration_heads()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.session.commit()
    try:
        response = client.get("/sante")
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert body == "Service Unavailable" and "0001" not in body and head not in body
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db.session.commit()
    assert client.get("/sante").status_code == 200


def test_health_answers_503_when_the_database_does_not_answer(app_config, tmp_path):
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": unreachable})
    response = app.test_client().get("/sante")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "Service Unavailable"
    assert "127.0.0.1" not in response.get_data(as_text=True)
