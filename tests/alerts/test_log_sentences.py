"""The referent's log reads as sentences with people's names, in the reader's language
(« user:4 · transition · from_state : received » was what a referent used to read)."""
from types import SimpleNamespace

from flask_babel import force_locale

from budget_app.alerts import log_sentences


def _entry(action, user_id=4, actor="user:4", **details):
    return SimpleNamespace(action=action, user_id=user_id, actor=actor, details=details or None)


def test_each_event_is_a_sentence_with_names(app):
    names = {4: "Claire Martin", 7: "Bruno Petit"}
    with app.test_request_context():
        transition = log_sentences.sentence(_entry("transition", from_state="received", to_state="transmitted",
                                                   transmitted_to="olaf", on="2025-06-30"), names)
        assert transition == ("Claire Martin a fait passer le signalement de « Reçu » à « Transmis » (destinataire : "
                              "OLAF (Office européen de lutte antifraude)), à la date du 30/06/2025.")
        suspicion = log_sentences.sentence(_entry("suspicion_set", line_type="expense", line_id=1), names)
        assert suspicion.startswith("Claire Martin a mis la dépense n° 1 en suspicion")
        form = log_sentences.sentence(_entry("transmission_form", amount="12500.00", eu_amount=None), names)
        assert "12\u202f500,00" in form and "non indiqué" in form and "None" not in form
        assert log_sentences.sentence(_entry("access_granted", referent=7), names) == \
            "Claire Martin a donné l'accès aux signalements à Bruno Petit."
        assert log_sentences.sentence(_entry("received", user_id=None, actor="public"), names) == \
            "Signalement reçu par le formulaire public."
        with force_locale("en"):
            english = log_sentences.sentence(_entry("transition", from_state="received", to_state="under_review",
                                                    on="2025-06-30"), names)
        assert english.startswith("Claire Martin moved the alert from") and "2025-06-30" in english
        for text in (transition, suspicion, form):
            assert "user:" not in text and "_" not in text
