"""``flask reminders send [--dry-run] [--today YYYY-MM-DD]``: the daily digests, for cron.

Idempotent (reminders.digest): run it twice, or on two servers at once, and each item is
announced once per threshold. Prints what it did for everyone but the anti-fraud referents,
whose digests are sent but never listed nor counted (loi 2022-401: nobody may learn when a
referent is told of a report).
"""
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.formatting import today_in_paris
from ..kernel.money import parse_day
from ..kernel.transactions import fail
from .digest import claim, confidential, digests_for, mail_context, render, settle
from .mail import MailError, Relay, build_message

SETTLE_BATCH = 100  # people whose mails are recorded as sent in one transaction

reminders_cli = AppGroup("reminders", help="Rappels par courriel (résumé quotidien par personne).")


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Affiche ce qui partirait, n'envoie rien et n'enregistre rien.")
@click.option("--today", "today_text", help="Date du jour AAAA-MM-JJ (par défaut : aujourd'hui à Paris).")
def send_command(dry_run, today_text):
    """Send each person's digest: what is new, due within 7 days, or overdue."""
    try:
        today = parse_day(today_text) if today_text else today_in_paris()
    except DomainError as exc:
        fail(exc.lines())
    now = datetime.now(timezone.utc)
    with mail_context():
        _send(today, now, dry_run)


def _send(today, now, dry_run):
    digests = digests_for(today, now)
    if dry_run:
        for digest in digests:
            if not confidential(digest.user):
                subject, body = render(digest, today)
                click.echo(f"--- {digest.user.email} · {subject}\n{body}")
        click.echo("Essai à blanc : rien n'a été envoyé ni enregistré. Les rappels des référents anti-fraude ne sont jamais listés.")
        return
    relay = Relay()
    sent = failed = 0
    results = []
    try:
        for digest in claim(digests, now):  # what this run owns: another run mails the rest
            user = digest.user
            hidden = confidential(user)
            subject, body = render(digest, today)
            message = build_message(user.email, subject, body, digest.message_id, user.locale or "fr")
            try:
                relay.send(message)
            except MailError as exc:
                results.append((user.id, [a.digest for a in digest.announcements], False))
                if not hidden:
                    failed += 1
                    click.echo(f"Échec pour {user.email} ({exc}) : nouvel essai au prochain passage.", err=True)
            else:
                results.append((user.id, [a.digest for a in digest.announcements], True))
                sent += 0 if hidden else 1
            if len(results) >= SETTLE_BATCH:
                settle(results, now)
                results = []
    finally:
        relay.close()
        settle(results, now)
    click.echo(f"Rappels : {sent} message(s) envoyé(s), {failed} en échec. "
               "Les rappels des référents anti-fraude ne sont jamais comptés ici.")
    if failed:
        raise SystemExit(1)


COMMANDS = (reminders_cli,)
