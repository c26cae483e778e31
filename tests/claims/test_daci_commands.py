"""`flask daci record` / `flask daci withdraw`: the register by command, same service and
refusals as its page (issue 24)."""
from budget_app.claims.daci import controller_may_check
from budget_app.claims.models import DaciDeclaration
from budget_app.kernel.extensions import db


def test_record_then_withdraw(app, runner, make_user, make_operation):
    controller = make_user("controller", email="ctrl@example.org")
    operation = make_operation("HL-RSA-2023", members=[controller])
    assert controller_may_check(controller, operation) is not None  # no DACI yet
    result = runner.invoke(args=["daci", "record", "CTRL@example.org", "HL-RSA-2023", "--signed-on", "2024-01-15"])
    assert result.exit_code == 0, result.output
    assert "enregistrée : CTRL@example.org · HL-RSA-2023 · signée le 15/01/2024 (sans intérêt déclaré)." in result.output
    db.session.expire_all()
    assert controller_may_check(controller, operation) is None
    withdrawn = runner.invoke(args=["daci", "withdraw", "ctrl@example.org", "HL-RSA-2023"])
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "1 DACI retirée(s)" in withdrawn.output
    db.session.expire_all()
    assert controller_may_check(controller, operation) is not None
    again = runner.invoke(args=["daci", "withdraw", "ctrl@example.org", "HL-RSA-2023"])
    assert again.exit_code == 1 and "Aucune DACI en vigueur" in again.output


def test_refusals_are_the_pages_and_write_nothing(app, runner, make_user, make_operation):
    make_user("controller", email="ctrl@example.org")
    make_operation("HL-RSA-2023")
    cases = [
        (["nobody@example.org", "HL-RSA-2023", "--signed-on", "2024-01-15"], "Aucun compte actif pour l'adresse nobody@example.org."),
        (["ctrl@example.org", "NOPE", "--signed-on", "2024-01-15"], "Opération inconnue : NOPE."),
        (["ctrl@example.org", "HL-RSA-2023", "--signed-on", "2024-13-01"], "--signed-on : "),
        (["ctrl@example.org", "HL-RSA-2023", "--signed-on", "2024-01-15", "--until", "2023-12-31"],
         "La fin de validité précède la date de signature."),
        (["ctrl@example.org", "HL-RSA-2023", "--signed-on", "2999-01-01"], "La date de signature ne peut pas être dans le futur."),
    ]
    for arguments, message in cases:
        result = runner.invoke(args=["daci", "record", *arguments])
        assert result.exit_code == 1, arguments
        assert message in result.output, (arguments, result.output)
    assert db.session.query(DaciDeclaration).count() == 0


def test_declared_interest_keeps_the_controller_out(app, runner, make_user, make_operation):
    controller = make_user("controller", email="ctrl@example.org")
    operation = make_operation("HL-RSA-2023", members=[controller])
    result = runner.invoke(args=["daci", "record", "ctrl@example.org", "HL-RSA-2023", "--signed-on", "2024-01-15",
                                 "--interest", "Conjoint salarié du porteur"])
    assert result.exit_code == 0 and "intérêt déclaré : ne contrôle pas ce dossier" in result.output
    db.session.expire_all()
    assert controller_may_check(controller, operation) is not None
