from sqlalchemy import func, select

from budget_app.accounts.passwords import verify_hash
from budget_app.accounts.assignments import codes_of
from budget_app.accounts.models import User
from budget_app.kernel.extensions import db

STRONG = "a long enough passphrase\n"


def user_count():
    return db.session.scalar(select(func.count(User.id)))


def test_create_user_reads_password_from_stdin(runner, make_operation):
    make_operation("HL-RSA-2023")
    result = runner.invoke(
        args=["users", "create", "Marie@Example.org", "--role", "finance_officer", "--operation", "HL-RSA-2023"],
        input=STRONG,
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "marie@example.org"))
    assert user.role == "finance_officer"
    assert codes_of(user.id) == ["HL-RSA-2023"]
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_records_cli_actor_in_audit(runner):
    from budget_app.kernel.audit.models import AuditEntry

    runner.invoke(args=["users", "create", "a@example.org", "--role", "auditor"], input=STRONG)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "users")).first()
    assert entry.actor.startswith("cli:")
    assert entry.after["email"] == "a@example.org"
    assert entry.after["password_hash"] == "***"


def test_bad_role_weak_password_existing_email_unknown_operation(runner, make_user):
    make_user(email="taken@example.org")
    before = user_count()
    cases = [
        (["users", "create", "x@example.org", "--role", "boss"], STRONG, "Rôle inconnu"),
        (["users", "create", "x@example.org", "--role", "auditor"], "short\n", "au moins 12"),
        (["users", "create", "taken@example.org", "--role", "auditor"], STRONG, "existe déjà"),
        (["users", "create", "x@example.org", "--role", "controller", "--operation", "NOPE"], STRONG, "Aucune opération n'a ce code : NOPE."),
        (["users", "create", "not-an-email", "--role", "auditor"], STRONG, "adresse e-mail valide"),
    ]
    for args, password, message in cases:
        result = runner.invoke(args=args, input=password)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output
    assert user_count() == before


def test_list_and_disable(runner, make_user, app, login):
    user = make_user("controller", email="ctl@example.org")
    client = app.test_client()
    login(client, user)
    assert client.get("/").status_code == 200
    listing = runner.invoke(args=["users", "list"])
    assert "ctl@example.org\tcontroller\tactif" in listing.output
    result = runner.invoke(args=["users", "disable", "ctl@example.org"])
    assert result.exit_code == 0
    assert "désactivé" in runner.invoke(args=["users", "list"]).output
    assert client.get("/").status_code == 302  # the session ended with the account
    assert runner.invoke(args=["users", "disable", "nobody@example.org"]).exit_code == 1


def test_setup_link_gives_a_demo_account_a_new_password(app, runner, client, make_user):
    """`users setup-link EMAIL --base-url …`: a single-use link on the port the app runs on;
    the person sets a new password through it, and the link then stops working."""
    user = make_user("finance_officer", email="fo.demo@example.org")
    result = runner.invoke(args=["users", "setup-link", "FO.Demo@example.org", "--base-url", "http://127.0.0.1:8080"])
    assert result.exit_code == 0, result.output
    link = result.output.split()[-1]
    assert link.startswith("http://127.0.0.1:8080/") and "valable 48 h" in result.output
    path = link.removeprefix("http://127.0.0.1:8080")
    assert client.get(path).status_code == 200
    client.post(path, data={"new": "une toute nouvelle phrase de passe", "confirm": "une toute nouvelle phrase de passe"})
    db.session.expire_all()
    assert user.setup_token_hash is None and verify_hash(user.password_hash, "une toute nouvelle phrase de passe")
    assert "plus valable" in client.get(path).get_data(as_text=True)  # single use
    missing = runner.invoke(args=["users", "setup-link", "nobody@example.org"])
    assert missing.exit_code == 1 and "Aucun compte pour nobody@example.org" in missing.output
    assert user.id
