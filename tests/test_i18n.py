from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_english_is_selectable_and_remembered(client, make_user, login):
    user = make_user(email="fo@example.org")
    login(client, user)
    assert "Vos opérations" in client.get("/").get_data(as_text=True)
    client.post("/compte/langue", data={"lang": "en"})
    page = client.get("/").get_data(as_text=True)
    assert "Your operations" in page and 'lang="en"' in page


def test_anonymous_visitor_can_switch_language(client):
    client.post("/compte/langue", data={"lang": "en"})
    assert "Log in" in client.get("/connexion").get_data(as_text=True)


def test_every_marked_string_has_an_english_translation():
    method_map = [("budget_app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map=method_map, keywords=keywords)
    }
    translated = set()
    for path in ROOT.glob("budget_app/**/translations/en/LC_MESSAGES/messages.po"):
        with open(path, "rb") as handle:
            translated |= {
                message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle)
                if message.id and message.string and (message.string if isinstance(message.string, str) else all(message.string))
                and not message.fuzzy
            }
    missing = sorted(extracted - translated)
    assert missing == [], "run `make translations [DOMAIN=x]` and translate these in messages.po: " + repr(missing[:20])


def test_no_catalogue_is_fuzzy():
    """pybabel compile skips a catalogue marked fuzzy: the English pages would fall back to
    French on a clean checkout while a stale .mo hid it here."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "budget_app"
    catalogues = sorted(root.glob("**/translations/*/LC_MESSAGES/messages.po"))
    assert len(catalogues) >= 8
    for path in catalogues:
        with path.open("rb") as stream:
            assert not read_po(stream).fuzzy, path
