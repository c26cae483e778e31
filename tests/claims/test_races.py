"""Service-done decisions carry a version (issue 21): of six decisions on one line sent
at the same moment, one is recorded and five are told the line was decided meanwhile;
a form without its version is refused."""
from decimal import Decimal as D

from budget_app.claims.models import ClaimLine
from budget_app.kernel.extensions import db
from tests.races import in_parallel, postgres_only
from tests.staff.factories import make_staff_line

BASE = "/operations/HL-RSA-2023/demandes"


def _submitted(client, login, claims_world):
    """A January bilan of one staff line (2 880,00 €), submitted."""
    make_staff_line(claims_world["operation"], "2880.00", hours=D("120"), rate=D("24.00"))
    login(client, claims_world["officer"])
    assert client.post(f"{BASE}/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"}).status_code == 302
    assert client.post(f"{BASE}/1/deposer").status_code == 302


def _reduce(amount, version="1"):
    def post(client):
        return client.post(f"{BASE}/1/lignes/1", data={"l1-decision": "reduced", "l1-amount": amount,
                                                        "l1-reason": "staff_time", "l1-comment": "",
                                                        "l1-version": version})
    return post


@postgres_only
def test_six_parallel_decisions_on_one_line_record_one(app, client, login, claims_world):
    """Six reductions (1 000,00 to 1 005,00 €) of line 1 seen at version 1: today the last
    write won silently. One is recorded (version 2); five answer 409 with a message."""
    _submitted(client, login, claims_world)
    responses = in_parallel(app, claims_world["controller"], [_reduce(f"100{n},00") for n in range(6)])
    assert sorted(response.status_code for response in responses) == [302] + [409] * 5
    line = db.session.scalar(db.select(ClaimLine))
    assert line.version == 2
    winner = next(index for index, response in enumerate(responses) if response.status_code == 302)
    assert line.retained_amount == D(f"100{winner}.00")
    for response in responses:
        if response.status_code == 409:
            assert "Cette ligne a été décidée par quelqu&#39;un d&#39;autre pendant votre saisie" in \
                response.get_data(as_text=True)


def test_a_decision_on_an_old_version_or_without_one_is_refused(client, login, claims_world):
    """Line 1 decided at version 1 (now 2): a second decision still based on version 1 is
    refused (409) and changes nothing; one without a version is refused too (400)."""
    _submitted(client, login, claims_world)
    login(client, claims_world["controller"])
    assert _reduce("1 000,00")(client).status_code == 302
    stale = _reduce("2 000,00")(client)
    assert stale.status_code == 409
    assert "décidée par quelqu&#39;un d&#39;autre" in stale.get_data(as_text=True)
    missing = client.post(f"{BASE}/1/lignes/1", data={"l1-decision": "kept", "l1-reason": "", "l1-comment": ""})
    assert missing.status_code == 400
    assert "Version manquante" in missing.get_data(as_text=True)
    line = db.session.scalar(db.select(ClaimLine))
    assert (line.decision, line.retained_amount, line.version) == ("reduced", D("1000.00"), 2)
    assert _reduce("2 000,00", version="2")(client).status_code == 302
