"""Operation settings for bilans (primer §1, §8-9), checked the same way for the file, the
forms and the CLI: the FSE+ amount is rate × total unless the agreement fixes it; no
advance for collectivités, OPCOs and State operators unless the agreement says so; the
payment deadline; RESTANTS_40 covers in-kind contributions."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.operations.loader import load_operation
from budget_app.operations.models import Operation
from budget_app.operations.plans import current_figures, payment_deadline


def refused(text):
    with pytest.raises(DomainError) as caught:
        load_operation(text)
    db.session.rollback()
    return "\n".join(caught.value.lines()).replace("\u202f", " ").replace("\xa0", " ")


def test_an_fse_amount_that_is_not_rate_times_total_is_refused_naming_both(app, seed_text):
    """833 750,00 × 60 % = 500 250,00 €; the file says 500 000,00: refused, both figures named."""
    text = seed_text.replace("500250.00", "500000.00").replace("333500.00", "333750.00")
    lines = refused(text)
    assert "500 000,00" in lines and "500 250,00" in lines and "fse_amount_fixed = true" in lines
    assert "59,9700 %" in lines
    assert db.session.scalar(select(Operation)) is None


def test_the_agreement_may_fix_the_amount_then_the_rate_used_is_fse_over_total(app, seed_text):
    """With ``fse_amount_fixed = true``: accepted; effective rate 500 000 / 833 750 = 59,9700 %."""
    text = (seed_text.replace("500250.00", "500000.00").replace("333500.00", "333750.00")
            .replace("fse_rate = 60", "fse_rate = 60\nfse_amount_fixed = true"))
    load_operation(text)
    db.session.commit()
    operation = db.session.scalar(select(Operation))
    assert operation.fse_amount_fixed and current_figures(operation).effective_rate == D("59.9700")


def test_a_collectivite_with_an_advance_rate_is_refused_unless_the_agreement_says_so(app, seed_text):
    """Primer §8: a Département gets no start-up advance; 30 % in its file is refused, unless
    ``advance_override = true`` with the agreement's reason."""
    assert "advance_rate = 0" in seed_text
    text = seed_text.replace("advance_rate = 0", "advance_rate = 30")
    assert "pas d'avance pour un bénéficiaire de type Collectivité" in refused(text)
    lines = refused(text.replace("advance_rate = 30", "advance_rate = 30\nadvance_override = true"))
    assert "operation.advance_override_reason : motif obligatoire" in lines
    load_operation(text.replace("advance_rate = 30", 'advance_rate = 30\nadvance_override = true\n'
                                'advance_override_reason = "Convention, article 6 : avance de 30 %"'))
    db.session.commit()
    assert db.session.scalar(select(Operation)).advance_override


@pytest.mark.parametrize("kind", ["opco", "state_operator"])
def test_opco_and_state_operators_get_no_advance_either(app, seed_text, kind):
    text = seed_text.replace('kind = "collectivite"', f'kind = "{kind}"').replace("advance_rate = 0", "advance_rate = 30")
    assert "operation.advance_rate" in refused(text)
    load_operation(text.replace("advance_rate = 30", "advance_rate = 0"))
    db.session.commit()
    assert db.session.scalar(select(Operation)).organisation.kind == kind


def test_payment_deadline_and_advance_recovery_settings(app, seed_text):
    """Default deadline: end + 6 months (31/12/2024 -> 30/06/2025); a deadline before the
    end is refused; the advance is recovered on interim payments unless the file says final."""
    load_operation(seed_text)
    db.session.commit()
    operation = db.session.scalar(select(Operation))
    assert payment_deadline(operation) == date(2025, 6, 30) and operation.advance_recovery == "interim"
    db.session.delete(operation)
    db.session.commit()
    lines = refused(seed_text.replace("fse_rate = 60", "fse_rate = 60\npayment_deadline = 2024-11-30"))
    assert "operation.payment_deadline" in lines
    lines = refused(seed_text.replace("fse_rate = 60", 'fse_rate = 60\nadvance_recovery = "solde"'))
    assert "operation.advance_recovery" in lines


def test_restants_40_plan_has_no_in_kind_real_costs(app, seed_text):
    text = (seed_text.replace('code = "INDIRECTS_15"', 'code = "RESTANTS_40"').replace("rate = 15", "rate = 40")
            + '\n[[plan.costs]]\ncategory = "NATURE"\nyear = 2023\namount = 1000.00\n')
    assert "la catégorie NATURE est couverte par le taux forfaitaire RESTANTS_40" in refused(text)
