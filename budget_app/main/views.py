from flask import Blueprint, render_template
from flask_login import current_user

from ..access import visible_operations_query
from ..extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    from ..operations.views import operation_rows

    operations = db.session.scalars(visible_operations_query(current_user)).all()
    return render_template("main/home.html", rows=operation_rows(operations))
