"""The floor under the expense list (issue 27, point 5): the same 50 rows of an operation of
20 000 expense lines rendered by bare Flask + one SQL query + Jinja + Babel formatting, with
none of the application (no login, session, access policy, totals, cursor or layout), against
the application's list page, in the same process and the same run. The floor prints every
column the list prints (the line's state too, from its bilan's mark, in the same query; the
category's label), through Babel for amounts, percents and days. The two pages are timed
alternately (a busy machine slows both alike); prints both medians and list / floor
(target <= 1.5). For information, a third page: the floor formatting through the
application's own functions (kernel.formatting: the euro pattern prepared once per
language), which tells how much of the gap is formatting and how much the rest.

SQLite in a temporary file by default; BENCH_DATABASE_URL=postgresql+psycopg://... runs it on
an existing empty PostgreSQL database (the figure of the issue: PostgreSQL)."""
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_expenses import CATEGORIES, START, fill  # noqa: E402

from budget_app import create_app  # noqa: E402
from budget_app.kernel.extensions import db  # noqa: E402

LINES = int(os.environ.get("BENCH_LINES", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "40"))

FLOOR_TEMPLATE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Dépenses</title></head><body>
<table><thead><tr><th>N°</th><th>Poste</th><th>Libellé</th><th>Fournisseur</th><th>Pièce</th><th>Paiement</th>
<th>HT</th><th>TVA</th><th>TTC</th><th>Clé</th><th>Présenté</th><th>État</th></tr></thead><tbody>
{% for row in rows %}<tr><td><a href="/depenses/{{ row.id }}">{{ row.id }}</a></td><td>{{ categories.get(row.category, row.category) }}</td>
<td>{{ row.label }}</td><td>{{ row.supplier_name }}</td><td>{{ row.document_number }}<br><small>{{ row.incurred_on|day }}</small></td>
<td>{{ row.paid_on|day }}</td><td>{{ row.amount_excl_vat|money }}</td><td>{{ row.vat|money }}</td>
<td>{{ (row.amount_excl_vat + row.vat)|money }}</td><td>{{ row.allocation_percent|percent }}</td>
<td>{{ row.eligible_amount|money }}</td><td>{{ states[row.state] }}</td></tr>{% endfor %}
</tbody></table></body></html>"""


def alternately(actions, runs: int) -> list[float]:
    """Medians of actions timed one after the other, ``runs`` times each, after a warm-up
    of each."""
    for action in actions:
        action()
    times = [[] for _ in actions]
    for _ in range(runs):
        for action, spent in zip(actions, times):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def floor_app(url: str, app_formatting: bool = False):
    """Bare Flask: one query (the first 50 rows, newest first), a Jinja template, Babel
    (``app_formatting``: the application's formatting functions instead, for information)."""
    from babel.dates import format_date
    from babel.numbers import format_currency, format_decimal
    from flask import Flask, render_template_string
    from sqlalchemy import bindparam, create_engine, select

    engine = create_engine(url)
    app = Flask("floor")
    app.testing = True  # errors raised, not a 500 page
    app.jinja_env.filters.update(
        day=lambda value: format_date(value, "dd/MM/yyyy", locale="fr_FR") if value else "",
        money=lambda value: format_currency(value, "EUR", locale="fr_FR"),
        percent=lambda value: format_decimal(value, "#,##0.00", locale="fr_FR") + "\u00a0%",
    )
    if app_formatting:
        from budget_app.kernel import formatting

        app.jinja_env.filters.update(day=lambda value: formatting.format_day(value, "fr"),
                                     money=lambda value: formatting.format_money(value, "fr"),
                                     percent=lambda value: formatting.format_percent(value, "fr"))
    from sqlalchemy import case

    # The tables only (their column types), not the application.
    from budget_app.claims.models import Claim
    from budget_app.expenses.models import Expense
    from budget_app.marks.models import LineMark

    table, marks, claims = Expense.__table__, LineMark.__table__, Claim.__table__
    bilan = (select(marks.c.bilan_id).where(marks.c.line_id == table.c.id, marks.c.line_type == "expense",
                                            marks.c.released_at.is_(None), marks.c.kind == "declared")
             .correlate_except(marks).limit(1).scalar_subquery())
    bilan_state = select(claims.c.state).where(claims.c.id == bilan).scalar_subquery()
    state = case((bilan_state.in_(("controlled", "paid")), "controlled"), (bilan_state == "submitted", "claimed"),
                 (table.c.is_complete.is_(False), "incomplete"), else_="draft")
    query = (select(table.c.id, table.c.category, table.c.label, table.c.supplier_name, table.c.document_number,
                    table.c.incurred_on, table.c.paid_on, table.c.amount_excl_vat, table.c.vat,
                    table.c.allocation_percent, table.c.eligible_amount, state.label("state"))
             .where(table.c.operation_id == bindparam("operation"), table.c.deleted_at.is_(None))
             .order_by(table.c.incurred_on.desc(), table.c.id.desc()).limit(50))
    labels = {"categories": {"FONCTIONNEMENT": "Dépenses directes de fonctionnement",
                             "PRESTATIONS": "Prestations de services"},
              "states": {"draft": "Complète", "incomplete": "Incomplète", "claimed": "Dans un bilan",
                         "controlled": "Contrôlée"}}

    @app.route("/depenses/<int:operation_id>")
    def listing(operation_id):
        with engine.connect() as connection:
            rows = connection.execute(query, {"operation": operation_id}).all()
        return render_template_string(FLOOR_TEMPLATE, rows=rows, **labels)

    return app, engine


def main():
    from flask_migrate import upgrade

    from budget_app.accounts.assignments import assign
    from budget_app.accounts.services import create_user
    from budget_app.accounts.sessions import start_session
    from budget_app.kernel import migrations
    from budget_app.operations.models import Operation, Organisation, PlanCost, PlanVersion

    workdir = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                      "BUDGET_APP_UPLOAD_DIR": str(workdir / "uploads"), "RATELIMIT_ENABLED": False})
    with app.app_context():
        migrations.bind(app)
        upgrade()
        officer = create_user("floor@example.org", "finance_officer", "correct horse battery staple")
        operation = Operation(
            code="BENCH", title="Bench", organisation=Organisation(name="Bench", kind="association"),
            start_date=START, end_date=date(2019, 12, 31), fse_rate=Decimal("50"),
            fse_amount=Decimal("1000000.00"), status="running")
        version = PlanVersion(number=1)
        version.costs = [PlanCost(category=category, year=2019, amount=Decimal("1000000")) for category in CATEGORIES]
        operation.plan_versions.append(version)
        db.session.add(operation)
        db.session.flush()
        assign(officer.id, operation.id)
        db.session.commit()
        fill(operation.id, 0, LINES, random.Random(2019))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE expenses" if db.engine.dialect.name == "postgresql" else "ANALYZE")
        token = start_session(officer)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(officer.id)
            session["_fresh"] = True
            session["sid"] = token
        dialect, operation_id = db.engine.dialect.name, operation.id
    # Timed outside the set-up's application context: each request then has its own, as
    # under a server (a request inside an outer context would share its ``g`` and database
    # session with the previous ones: the user, its session record and the locale loaded
    # once for all requests).

    def page():
        response = client.get("/operations/BENCH/depenses")
        assert response.status_code == 200, response.status_code

    floors, engines = [], []
    for app_formatting in (False, True):
        bare, engine = floor_app(url, app_formatting)
        engines.append(engine)

        def floor(bare_client=bare.test_client()):
            response = bare_client.get(f"/depenses/{operation_id}")
            assert response.status_code == 200 and response.data.count(b"<tr>") == 51, (response.status_code, response.data[:300])

        floors.append(floor)
    listed, floored, formatted = alternately([page, *floors], RUNS)
    for engine in engines:
        engine.dispose()
    print(f"Floor of the expense list ({dialect}, {LINES} lines, 50 rows shown, median of {RUNS}, in-process):")
    print(f"  list page {listed * 1000:.1f} ms, floor (bare Flask + one query + Jinja + Babel) {floored * 1000:.1f} ms: "
          f"list / floor = {listed / floored:.2f} (target <= 1.5: {'ok' if listed / floored <= 1.5 else 'MISSED'})")
    print(f"  for information, the floor formatting with the application's functions: {formatted * 1000:.1f} ms, "
          f"list / that = {listed / formatted:.2f}")


if __name__ == "__main__":
    main()
