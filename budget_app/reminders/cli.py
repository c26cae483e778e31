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

from ..kernel.bulk import gc_paused
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.money import parse_day
from ..kernel.transactions import fail
from .digest import Plan, claim, confidential, settle
from .mail import MailError, RelayPool, build_message
from .writing import Writer, mail_context

BATCH = 500  # people planned, claimed, mailed and settled together (bounded memory; each batch two commits)

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
    # A run allocates a few objects per announcement (tens of thousands): the cycle
    # collector's passes over them, triggered by the count alone, are a tenth of its time.
    with mail_context(), gc_paused():
        if dry_run:
            _dry_run(today, now)
        else:
            _send(today, now)


def _batches(plan):
    people = plan.people()
    for start in range(0, len(people), BATCH):
        yield plan.digests(people[start:start + BATCH])


def _dry_run(today, now):
    plan, writer = Plan(today, now), Writer()
    for digests in _batches(plan):
        for digest in digests:
            if not confidential(digest.user):
                subject, body = writer.render(digest, today)
                click.echo(f"--- {digest.user.email} · {subject}\n{body}")
    click.echo("Essai à blanc : rien n'a été envoyé ni enregistré. Les rappels des référents anti-fraude ne sont jamais listés.")


def _send(today, now):
    """Batch after batch: claim, write and hand the mails to the pool; while they travel,
    the next batch is planned, claimed and written; then this one is settled."""
    plan, writer = Plan(today, now), Writer()
    pool = RelayPool(current_app.config["MAIL_CONNECTIONS"])
    # The people read for the run must not be expired by each batch's commits (no query
    # per person to read them again).
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    counts = {"sent": 0, "failed": 0}
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    in_flight = None
    try:
        for digests in _batches(plan):
            batch = claim(digests, now)  # what this run owns: another run mails the rest
            envelopes = []
            for digest in batch:
                subject, body = writer.render(digest, today)
                try:
                    envelopes.append(build_message(digest.user.email, subject, body, digest.message_id,
                                                   digest.user.locale or "fr", sender))
                except MailError as exc:  # e.g. a line break in the address: this mail fails alone
                    envelopes.append(exc)
            handle = pool.submit(envelopes)
            if in_flight is not None:
                _settle(*in_flight, pool, now, counts)
            in_flight = (batch, handle)
        if in_flight is not None:
            _settle(*in_flight, pool, now, counts)
    finally:
        session.expire_on_commit = expire_on_commit
        pool.close()
    click.echo(f"Rappels : {counts['sent']} message(s) envoyé(s), {counts['failed']} en échec. "
               "Les rappels des référents anti-fraude ne sont jamais comptés ici.")
    if counts["failed"]:
        raise SystemExit(1)


def _settle(batch, handle, pool, now, counts):
    results = []
    for digest, error in zip(batch, pool.wait(handle)):
        user = digest.user
        hidden = confidential(user)
        results.append((user.id, error is None))
        if error is None:
            counts["sent"] += 0 if hidden else 1
        elif not hidden:
            counts["failed"] += 1
            click.echo(f"Échec pour {user.email} ({error}) : nouvel essai au prochain passage.", err=True)
    if results:
        settle(results, now)


COMMANDS = (reminders_cli,)
