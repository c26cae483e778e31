"""Reminders benchmark (issue 28): `reminders send` for 2 000 users and 300 operations.

Prints, against a baseline measured in the same run:
- the whole send (items, digests rendered in each person's language, announcements
  recorded, mails over SMTP to an aiosmtpd sink on 127.0.0.1 in a process of its own,
  bench/smtp_sink.py) vs the queries that find the due items (``due_items`` for everyone:
  one pass over alerts, bilans, timesheets, checks, DACI, amendments, set-up links,
  retention, participants), best of three (target <= 2x);
- a second run, which finds everything announced and sends nothing, vs the same baseline;
- each ratio in elapsed time and in this process's CPU time (the machine is shared: the
  CPU time is the steadier figure; the sink's own CPU is not counted);
- the process's peak memory (target <= 150 MB).

The sink offers PIPELINING (RFC 2920) as a production relay does; BENCH_PIPELINING=0 for
a relay without it (one command at a time).

    .venv/bin/python bench/bench_reminders.py
    BENCH_USERS=500 BENCH_OPERATIONS=60 ...        # a quick run
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERS = int(os.environ.get("BENCH_USERS", "2000"))
OPERATIONS = int(os.environ.get("BENCH_OPERATIONS", "300"))
TODAY = date(2024, 12, 16)


def populate(db):
    from budget_app.accounts.models import OperationMember, User
    from budget_app.claims.models import Claim
    from budget_app.operations.models import AmendmentRequest, Operation, Organisation
    from budget_app.staff.models import Person, StaffAssignment, Timesheet

    organisation = Organisation(name="Département", kind="collectivite")
    operations = [Operation(code=f"OP-{n:04d}", title=f"Opération {n}", organisation=organisation,
                            start_date=date(2022 + n % 2, 1, 1), end_date=date(2024, 6 + n % 7, 30 - n % 2),
                            fse_rate=Decimal("60"), fse_amount=Decimal("100000.00"), status="running")
                  for n in range(OPERATIONS)]
    db.session.add_all(operations)
    roles = ["finance_officer"] * 12 + ["controller"] * 4 + ["admin", "auditor", "antifraud_referent", "finance_officer"]
    users = [User(email=f"user{n}@example.org", full_name=f"Personne {n}", password_hash="!", role=roles[n % len(roles)],
                  locale="en" if n % 3 == 0 else "fr") for n in range(USERS)]
    db.session.add_all(users)
    db.session.flush()
    members = []
    for n, user in enumerate(users):
        if user.role in ("finance_officer", "controller"):
            members.append(OperationMember(user_id=user.id, operation_id=operations[n % OPERATIONS].id))
    db.session.add_all(members)
    for n, operation in enumerate(operations):
        person = Person(registration_number=f"M{n:05d}", last_name="Durand", first_name="Léa")
        assignment = StaffAssignment(operation_id=operation.id, person=person, method="hourly")
        db.session.add_all([person, assignment])
        for month in range(1, 13):
            db.session.add(Timesheet(assignment=assignment, month=date(2024, month, 1), hours_on_operation=Decimal("100"),
                                     hours_worked=Decimal("151.67"), state="submitted"))
        db.session.add(Claim(operation_id=operation.id, number=1, period_start=operation.start_date,
                             period_end=date(2023, 12, 31), state="submitted",
                             submitted_at=datetime(2024, 10, 1, 9, tzinfo=timezone.utc)))
        if n % 10 == 0:
            db.session.add(AmendmentRequest(operation_id=operation.id, state="pending", payload="{}"))
    db.session.commit()


def main():
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from budget_app import create_app
    from budget_app.kernel import migrations
    from budget_app.kernel.extensions import db
    from budget_app.reminders.items import due_items
    from budget_app.reminders.models import ReminderDelivery

    directory = tempfile.mkdtemp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The SMTP sink in a process of its own, as a relay would be (in-process, it would
    # compete with the sender for the interpreter's lock).
    pipelining = os.environ.get("BENCH_PIPELINING", "1") != "0"
    smtp = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port)]
                            + ([] if pipelining else ["--no-pipelining"]), stdout=subprocess.PIPE, text=True)
    for _ in range(100):
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
                      "BUDGET_APP_UPLOAD_DIR": f"{directory}/uploads", "ALERT_KEY_FILE": f"{directory}/alert_key",
                      "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_DEFAULT_SENDER": "suivi@example.org"})
    migrations.bind(app)  # Flask-Migrate is bound on demand (kernel/migrations.py)
    try:
        with app.app_context():
            upgrade()
            populate(db)
            db.session.remove()
            runner = app.test_cli_runner()
            timings = []
            for attempt in range(3):
                db.session.remove()
                found, wall, cpu = timed(lambda: due_items(TODAY))
                timings.append((wall, cpu))
            baseline = (min(wall for wall, _cpu in timings), min(cpu for _wall, cpu in timings))
            db.session.remove()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            reset = reset_peak()
            result, *send = timed(lambda: runner.invoke(args=["reminders", "send", "--today", TODAY.isoformat()]))
            assert result.exit_code == 0, result.output
            during = peak_since_reset() if reset else None
            mails = int(result.output.split("Rappels : ")[1].split(" ")[0])
            db.session.remove()
            again, *second = timed(lambda: runner.invoke(args=["reminders", "send", "--today", TODAY.isoformat()]))
            assert again.exit_code == 0 and "Rappels : 0 message(s)" in again.output, again.output
            announced = db.session.scalar(select(func.count()).select_from(ReminderDelivery))
    finally:
        smtp.terminate()
        received = smtp.communicate(timeout=10)[0].strip()
    peak = max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # the reset lowers ru_maxrss too
    print(f"reminders: {USERS} users, {OPERATIONS} operations, {len(found)} items, {announced} announcements, "
          f"{mails} mails (referents' not counted), "
          f"{received} received by the sink ({'with' if pipelining else 'without'} PIPELINING)")
    print(f"  queries finding the due items : {baseline[0] * 1000:8.0f} ms, CPU {baseline[1] * 1000:6.0f} ms (baseline)")
    for label, (wall, cpu), target in (("reminders send (SMTP)        ", send, "  (target <= 2x)"),
                                       ("second run (nothing to send) ", second, "")):
        print(f"  {label}: {wall * 1000:8.0f} ms = {wall / baseline[0]:5.2f}x, CPU {cpu * 1000:6.0f} ms = "
              f"{cpu / baseline[1]:5.2f}x{target}")
    print(f"  peak memory of the process    : {peak:8.0f} MB  (target <= 150 MB; {before:.0f} MB before the send)")
    if during is not None:
        print(f"  peak memory during the send   : {during:8.0f} MB  (resident high-water mark, reset before the send)")


def reset_peak() -> bool:
    """Linux: reset the process's resident high-water mark (VmHWM), so that the send's own
    peak can be read (the population before it may have set the process's)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_since_reset() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def timed(call):
    """(what ``call`` returned, elapsed seconds, this process's CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    main()
