"""Production entry point: ``gunicorn 'budget_app.wsgi:app'`` (see README)."""
from . import create_app
from .seed import assert_ready_for_production

app = create_app()
assert_ready_for_production(app)
