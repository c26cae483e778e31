"""Error pages in French and English, never a stack trace."""
import logging

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("budget_app.errors")

ERROR_TEXTS = {
    400: (_l("Requête invalide"), _l("La requête n'a pas pu être comprise. Revenez à la page précédente et réessayez.")),
    403: (_l("Accès refusé"), _l("Votre rôle ne permet pas d'accéder à cette page.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou vous n'y avez pas accès.")),
    405: (_l("Méthode non permise"), _l("Cette page ne peut pas être utilisée de cette façon.")),
    413: (
        _l("Fichier trop volumineux"),
        _l("Le fichier ou le formulaire envoyé dépasse la taille maximale autorisée (%(limit)s Mo)."),
    ),
    429: (_l("Trop de tentatives"), _l("Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez.")),
    500: (_l("Erreur interne"), _l("Une erreur inattendue s'est produite. Rien n'a été enregistré ; réessayez ou contactez l'administrateur.")),
}


def render_error(code: int, message=None):
    from flask import current_app

    title, default = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    if message is None:
        limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        message = str(default).replace("%(limit)s", str(limit_mb))
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _l("Le formulaire a expiré ou n'est pas valide. Rechargez la page et saisissez-le à nouveau.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            # Flask-Limiter's breach carries the limit's own message (login, public form...).
            message = getattr(getattr(error, "limit", None), "error_message", None)
            return render_error(429, str(message) if message else None)
        if error.code in ERROR_TEXTS:
            return render_error(error.code)
        return error

    @app.errorhandler(Exception)
    def unexpected_error(error):
        from .extensions import db

        db.session.rollback()
        log.exception("event=unhandled_error")
        return render_error(500)
