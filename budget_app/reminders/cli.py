"""``flask reminders send [--dry-run] [--today YYYY-MM-DD]``: the daily digests, for cron.

Idempotent (reminders.digest): run it twice, or on two servers at once, and each item is
announced once per threshold. Prints what it did for everyone but the anti-fraud referents,
whose digests are sent but never listed nor counted (loi 2022-401: nobody may learn when a
referent is told of a report).
"""
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.money import parse_day
from ..kernel.transactions import fail
from .digest import claim, confidential, digests_for, mail_context, render, settle
from .mail import RelayPool, build_message

SETTLE_BATCH = 100  # people mailed as one batch (over the pool's connections), then recorded as sent

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
    pool = RelayPool(current_app.config["MAIL_CONNECTIONS"])
    # The people and items were read once for the run: the commits of each batch must not
    # make every one of them be read again, one query each.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    sent = failed = 0
    texts: dict = {}  # (locale, item key) -> its line and link: each item written once per language
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    try:
        for start in range(0, len(digests), SETTLE_BATCH):
            batch = claim(digests[start:start + SETTLE_BATCH], now)  # what this run owns: another run mails the rest
            messages = []
            for digest in batch:
                subject, body = render(digest, today, texts)
                messages.append(build_message(digest.user.email, subject, body, digest.message_id,
                                              digest.user.locale or "fr", sender))
            results = []
            for digest, error in zip(batch, pool.send_all(messages)):
                user = digest.user
                hidden = confidential(user)
                results.append((user.id, [a.digest for a in digest.announcements], error is None))
                if error is None:
                    sent += 0 if hidden else 1
                elif not hidden:
                    failed += 1
                    click.echo(f"Échec pour {user.email} ({error}) : nouvel essai au prochain passage.", err=True)
            if results:
                settle(results, now)
    finally:
        session.expire_on_commit = expire_on_commit
        pool.close()
    click.echo(f"Rappels : {sent} message(s) envoyé(s), {failed} en échec. "
               "Les rappels des référents anti-fraude ne sont jamais comptés ici.")
    if failed:
        raise SystemExit(1)


COMMANDS = (reminders_cli,)
