"""Forms of the staff domain. They read what was typed, as text: the staff and timesheet
forms are one-row imports (``imports.save_staff_row``, ``imports.save_timesheet``), so the
rules and their messages are those of the files."""
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField

from ..kernel.forms import FlaskForm
from .people import STAFF_COLUMNS
from .timesheets import TIMESHEET_COLUMNS


class _RowForm(FlaskForm):
    """A form whose fields are a file's columns; ``values()`` is the row as typed."""

    columns: dict = {}

    def values(self) -> dict:
        return {key: (getattr(self, key).data or "").strip() for key in self.columns}


class StaffForm(_RowForm):
    columns = STAFF_COLUMNS
    registration_number = StringField()
    last_name = StringField()
    first_name = StringField()
    function = StringField()
    method = StringField(default="horaire")
    year = StringField()
    annual_cost = StringField()
    working_share = StringField()
    fixed_percent = StringField()
    monthly_cost = StringField()  # method B
    monthly_hours = StringField()


class TimesheetForm(_RowForm):
    columns = TIMESHEET_COLUMNS
    registration_number = StringField()
    month = StringField()
    hours_on_operation = StringField()
    hours_worked = StringField()
    monthly_cost = StringField()
    salary_paid_on = StringField()
    version = HiddenField()


class TimesheetActionForm(FlaskForm):
    action = HiddenField()
    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField()
    token = HiddenField()


class EvidenceForm(FlaskForm):
    """A staff document: whose, what, which year or month (as the page shows them: mm/aaaa),
    and for a mission letter its share and dates. Read as text; ``evidence`` checks them."""

    person = StringField()  # matricule
    kind = StringField()
    year = StringField()
    month = StringField()
    share = StringField()
    valid_from = StringField()
    valid_to = StringField()
    file = FileField()
