from flask_wtf import FlaskForm


class PreferencesForm(FlaskForm):
    """CSRF only: the kinds kept on arrive as ``on`` values (the checked boxes)."""


class CalendarForm(FlaskForm):
    """CSRF only: ``action`` is ``new`` or ``revoke``."""
