"""Daily digests over real SMTP (aiosmtpd on 127.0.0.1): recipients, language, wording,
once per threshold, opt-outs, failure then retry, and confidentiality of the referents'."""
import os
import subprocess
import sys
from datetime import date

from budget_app.kernel.extensions import db
from budget_app.reminders.models import ReminderDelivery
from budget_app.reminders.preferences import save_preferences

from .conftest import bodies_for


def text(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def send(runner, *args):
    return runner.invoke(args=["reminders", "send", *args])


def test_digests_reach_each_person_once_per_threshold(world, runner, smtp):
    """16/12/2024: Bruno (English) gets the timesheet (new), Chloé the check due 20/12
    (within 7 days), the referent the acknowledgment due 26/12 (within 7 days) and the
    feedback due 26/03/2025 (new). Ana, the admin and the auditor get nothing. Run again:
    nothing. 27/12: the check and the acknowledgment are overdue, the timesheet due soon:
    one more mail each; the feedback, already announced as new, is not repeated."""
    result = send(runner, "--today", "2024-12-16")
    assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in smtp.messages) == ["bruno@example.org", "chloe@example.org", "referent@example.org"]
    bruno = bodies_for(smtp, "bruno@example.org")[0]
    assert bruno["Subject"] == "[Suivi FSE+] To do: 0 overdue, 0 due soon, 1 new"
    assert "New:\n- Approve a timesheet of HL-RSA-2023 (2024-11) (due: 2024-12-31)" in text(bruno)
    assert "https://fse.example.org/operations/HL-RSA-2023/" in bruno.get_content()
    chloe = bodies_for(smtp, "chloe@example.org")[0]
    assert "À échéance dans les 7 jours :\n- Contrôler Bilan intermédiaire n° 1 de HL-RSA-2023 (échéance : 20/12/2024)" in text(chloe)
    referent = bodies_for(smtp, "referent@example.org")[0].get_content()
    assert "- Un signalement attend votre accusé de réception avant le 26/12/2024" in referent
    assert "Rappels : 2 message(s) envoyé(s), 0 en échec." in result.output  # the referent's is not counted

    again = send(runner, "--today", "2024-12-16")
    assert again.exit_code == 0 and len(smtp.messages) == 3

    later = send(runner, "--today", "2024-12-27")
    assert later.exit_code == 0, later.output
    assert len(smtp.messages) == 6
    chloe_late = bodies_for(smtp, "chloe@example.org")[1].get_content()
    assert "En retard :" in chloe_late
    referent_late = bodies_for(smtp, "referent@example.org")[1].get_content()
    assert "accusé de réception avant le 26/12/2024" in referent_late
    assert "retour à son auteur" not in referent_late


def test_opt_out_except_legal_deadlines(world, runner, smtp):
    """Bruno turns every reminder off: the timesheet is no longer mailed, but on 06/01/2025
    the final bilan (legal, primer §8) still is."""
    save_preferences(world["approving"], [])
    db.session.commit()
    send(runner, "--today", "2024-12-16")
    assert bodies_for(smtp, "bruno@example.org") == []
    send(runner, "--today", "2025-01-06")
    mails = bodies_for(smtp, "bruno@example.org")
    assert len(mails) == 1
    assert "final bilan" in mails[0].get_content() and "timesheet" not in mails[0].get_content()


def test_a_failed_mail_is_sent_again_with_the_same_message_id(world, runner, smtp):
    smtp.refuse = 3  # the relay answers 451 to the first three messages of the run
    first = send(runner, "--today", "2024-12-16")
    assert first.exit_code == 1
    assert "nouvel essai au prochain passage" in first.output
    assert smtp.messages == []
    assert db.session.query(ReminderDelivery).filter_by(state="sent").count() == 0
    second = send(runner, "--today", "2024-12-16")
    assert second.exit_code == 0, second.output
    assert len(smtp.messages) == 3
    third = send(runner, "--today", "2024-12-16")
    assert third.exit_code == 0 and len(smtp.messages) == 3
    ids = {m["To"]: m["Message-ID"] for m in smtp.messages}
    assert all(value.startswith("<reminder.") and value.endswith("@example.org>") for value in ids.values())


def test_message_id_is_stable_for_the_same_announcements(world, app):
    from datetime import datetime, timezone

    from budget_app.reminders.digest import Digest, due_announcements

    now = datetime(2024, 12, 16, 8, tzinfo=timezone.utc)
    first = Digest(world["approving"], due_announcements(world["approving"], date(2024, 12, 16), now)).message_id
    second = Digest(world["approving"], due_announcements(world["approving"], date(2024, 12, 16), now)).message_id
    other = Digest(world["controller"], due_announcements(world["controller"], date(2024, 12, 16), now)).message_id
    assert first == second != other


def test_nothing_outside_the_referents_mentions_an_alert(world, runner, smtp):
    send(runner, "--today", "2024-12-27")
    dry = send(runner, "--dry-run", "--today", "2024-12-27")
    for message in smtp.messages:
        if message["To"] == "referent@example.org":
            continue
        text = (message["Subject"] + message.get_content()).lower()
        assert "signal" not in text and "alert" not in text and "report" not in text
    for output in (dry.output,):
        assert "referent@example.org" not in output
        assert "signalement attend" not in output


def test_dry_run_sends_and_records_nothing(world, runner, smtp):
    result = send(runner, "--dry-run", "--today", "2024-12-16")
    assert result.exit_code == 0
    assert "--- bruno@example.org · [Suivi FSE+] To do: 0 overdue, 0 due soon, 1 new" in result.output
    assert smtp.messages == [] and db.session.query(ReminderDelivery).count() == 0


def test_bad_date_is_refused(world, runner):
    result = send(runner, "--today", "2024-13-45")
    assert result.exit_code == 1 and result.output.startswith("Erreur : ")


def test_two_processes_at_once_mail_each_person_once(world, smtp, app, database_url, tmp_path):
    """Two `flask reminders send` processes started together (two servers' cron): every
    person gets exactly one digest."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": app.config["SECRET_KEY"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(app.config["MAIL_PORT"]),
           "MAIL_DEFAULT_SENDER": "suivi-fse@example.org", "BUDGET_APP_UPLOAD_DIR": str(tmp_path / "up"),
           "BUDGET_APP_ALERT_KEY": "", "ALERT_KEY_FILE": app.config["ALERT_KEY_FILE"]}
    db.session.commit()
    command = [sys.executable, "-m", "flask", "--app", "budget_app", "reminders", "send", "--today", "2024-12-16"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert sorted(m["To"] for m in smtp.messages) == ["bruno@example.org", "chloe@example.org", "referent@example.org"]


def test_pipelined_relay_gets_each_digest_and_refusals_are_retried(world, runner, smtp, app):
    """Over one connection to a relay that offers PIPELINING, the three digests in turn
    (Bruno, Chloé, the referent): Bruno's text refused (451) and Chloé's address refused
    (550) fail alone, the referent's goes through; the next run mails the two failed ones."""
    app.config["MAIL_CONNECTIONS"] = 1
    smtp.pipelining, smtp.refuse, smtp.refuse_recipient = True, 1, "chloe@example.org"
    first = send(runner, "--today", "2024-12-16")
    assert first.exit_code == 1
    assert "Échec pour chloe@example.org (550" in first.output
    assert [m["To"] for m in smtp.messages] == ["referent@example.org"]
    sent = db.session.query(ReminderDelivery).filter_by(state="sent").all()
    assert {row.user_id for row in sent} == {world["referent"].id}
    smtp.refuse_recipient = None
    second = send(runner, "--today", "2024-12-16")
    assert second.exit_code == 0, second.output
    assert sorted(m["To"] for m in smtp.messages) == ["bruno@example.org", "chloe@example.org", "referent@example.org"]
    assert send(runner, "--today", "2024-12-16").exit_code == 0 and len(smtp.messages) == 3
    bruno = bodies_for(smtp, "bruno@example.org")[0]
    assert bruno["Subject"] == "[Suivi FSE+] To do: 0 overdue, 0 due soon, 1 new"
    assert "- Approve a timesheet of HL-RSA-2023 (2024-11) (due: 2024-12-31)" in bruno.get_content()


def test_a_row_taken_back_by_another_run_is_not_mailed_twice(world, runner, smtp, app):
    """A run failed (rows pending, released). Before this run claims them, another run
    takes Bruno's back (its claimed_at changes): this run mails the others only."""
    from datetime import datetime, timezone

    from budget_app.reminders.digest import claim, digests_for

    smtp.refuse = 3
    assert send(runner, "--today", "2024-12-16").exit_code == 1
    now = datetime.now(timezone.utc)
    digests = digests_for(date(2024, 12, 16), now)
    assert len(digests) == 3 and all(a.row_id for d in digests for a in d.announcements)
    other = datetime(2030, 1, 1, tzinfo=timezone.utc)
    db.session.query(ReminderDelivery).filter_by(user_id=world["approving"].id).update({"claimed_at": other})
    db.session.commit()
    owned = claim(digests, now)
    assert sorted(d.user.email for d in owned) == ["chloe@example.org", "referent@example.org"]
    assert db.session.query(ReminderDelivery).filter_by(user_id=world["controller"].id).one().attempts == 2


def test_an_address_with_a_line_break_fails_alone(world, runner, smtp):
    """An address that would inject an SMTP command (a line break in it) is never sent;
    its digest fails and is kept for the next run; the others go."""
    world["approving"].email = "bruno@example.org\r\nRCPT TO:<intrus@example.net>"
    db.session.commit()
    result = send(runner, "--today", "2024-12-16")
    assert result.exit_code == 1 and "line break in To" in result.output
    assert sorted(m["To"] for m in smtp.messages) == ["chloe@example.org", "referent@example.org"]
    assert db.session.query(ReminderDelivery).filter_by(user_id=world["approving"].id, state="pending").count() == 1


def test_missing_dacis_one_line_announced_per_earliest(world, three_missing, runner, smtp, make_user):
    """16/12/2024: the admin (French) and an English admin get one line for the three
    missing DACIs, overdue since 01/10/2024 (the earliest: Dan's, HL-RSA-2023's bilan
    submitted then), linking to the DACI register. 17/12: Ève's is recorded, Dan's stays the
    earliest: nothing new (the page says 2). 18/12: Dan's is recorded, Fanny's (05/11/2024)
    remains: a new line, « 1 DACI à enregistrer », overdue since 05/11/2024."""
    from budget_app.reminders.items import items_for
    from tests.claims.factories import declare

    english = make_user("admin", email="en-admin@example.org", full_name="Ed Admin", locale="en")
    db.session.commit()
    assert send(runner, "--today", "2024-12-16").exit_code == 0
    admin = text(bodies_for(smtp, "admin@example.org")[0])
    assert "En retard :\n- 3 DACI à enregistrer (échéance : 01/10/2024)\n  https://fse.example.org/" in admin
    assert admin.count("DACI") == 1
    assert "- 3 conflict-of-interest declaration(s) to record (due: 2024-10-01)" in text(
        bodies_for(smtp, english.email)[0])

    declare(three_missing["eve"], three_missing["other"], recorded_by=world["admin"])
    assert send(runner, "--today", "2024-12-17").exit_code == 0
    assert len(bodies_for(smtp, "admin@example.org")) == 1
    assert [item.values["count"] for item in items_for(world["admin"], date(2024, 12, 17))] == [2]

    declare(three_missing["dan"], world["operation"], recorded_by=world["admin"])
    assert send(runner, "--today", "2024-12-18").exit_code == 0
    later = bodies_for(smtp, "admin@example.org")
    assert len(later) == 2
    assert "En retard :\n- 1 DACI à enregistrer (échéance : 05/11/2024)" in text(later[1])


def test_item_digests_stay_hmac_sha256_keyed_by_the_secret_key(app):
    """The stored digests of earlier runs stay valid: the hash states computed once give
    the same bytes as HMAC-SHA256 keyed by SECRET_KEY, whatever the key's length."""
    import hmac

    from budget_app.reminders.digest import item_digest

    for secret in (b"short", b"k" * 64, b"a longer key than one block of SHA-256 " * 3):
        assert item_digest(7, "timesheet:3", secret) == hmac.digest(secret, b"reminder:7:timesheet:3", "sha256").hex()
    with app.app_context():
        expected = hmac.digest(app.config["SECRET_KEY"].encode(), b"reminder:1:alert-ack:2", "sha256").hex()
        assert item_digest(1, "alert-ack:2") == expected
