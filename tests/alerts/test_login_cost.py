"""A referent's login derives one key from the password, not two (issue 26, point 7): the
private key opens only with the right password, so opening it is the password's check; a
wrong password is still refused, and a referent without a key is checked by the stored hash.
The bench (bench/bench_login.py) prints the cost as a ratio to one argon2 verification."""
from budget_app.accounts import passwords
from budget_app.kernel import keybox
from tests.conftest import PASSWORD


def _counting(monkeypatch):
    calls = {"hash": 0, "derive": 0}
    verify_hash, password_key = passwords.verify_hash, keybox.password_key

    def counted_verify(*args, **kwargs):
        calls["hash"] += 1
        return verify_hash(*args, **kwargs)

    def counted_key(*args, **kwargs):
        calls["derive"] += 1
        return password_key(*args, **kwargs)

    monkeypatch.setattr(passwords, "verify_hash", counted_verify)
    monkeypatch.setattr(keybox, "password_key", counted_key)
    return calls


def test_a_referent_login_derives_once(client, make_user, monkeypatch):
    referent = make_user("antifraud_referent", email="referent@example.org")
    officer = make_user("finance_officer", email="officer@example.org")
    calls = _counting(monkeypatch)
    response = client.post("/connexion", data={"email": referent.email, "password": PASSWORD})
    assert response.status_code == 302 and "/connexion/" in response.headers["Location"]  # then the second factor
    assert calls == {"hash": 0, "derive": 1}
    calls.update(hash=0, derive=0)
    wrong = client.post("/connexion", data={"email": referent.email, "password": PASSWORD + "x"})
    assert wrong.status_code == 200 and "incorrect" in wrong.get_data(as_text=True)
    assert calls == {"hash": 1, "derive": 1}  # the key does not open: the stored hash decides
    calls.update(hash=0, derive=0)
    client.post("/connexion", data={"email": officer.email, "password": PASSWORD})
    assert calls == {"hash": 1, "derive": 0}
