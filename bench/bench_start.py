"""Start-up benchmark: a CLI command that reads the database against the bare imports of
the libraries it is built on, both in child processes of this venv, run alternately.

Prints:
- `flask --app budget_app operations show HL-RSA-2023 --json` wall time vs
  `python -c "import flask_sqlalchemy, flask_wtf, flask_login, flask_babel, flask_limiter,
  openpyxl, cryptography"` (target <= 2x);
- `flask --app budget_app --help` (the app and every command group loaded) against the
  same bare imports (target <= 1.5x, issue 27);
- the command's peak memory (max RSS, target <= 100 MB), and the baseline's.

    .venv/bin/python bench/bench_start.py          # SQLite file in a temporary directory
    BENCH_DATABASE_URL=postgresql+psycopg://...    # an empty PostgreSQL database instead
    BENCH_ROUNDS=11 ...                            # more rounds on a busy machine
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
BASELINE = [sys.executable, "-c",
            "import flask_sqlalchemy, flask_wtf, flask_login, flask_babel, flask_limiter, openpyxl, cryptography"]
COMMAND = [str(BIN / "flask"), "--app", "budget_app", "operations", "show", "HL-RSA-2023", "--json"]
HELP = [str(BIN / "flask"), "--app", "budget_app", "--help"]  # every command listed (issue 27: <= 1.5x)


def run(argv, env) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KB) of one child process."""
    begin = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - begin
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return elapsed, usage.ru_maxrss


def main():
    # The application's bytecode, as an installed package has it (PYTHONDONTWRITEBYTECODE in
    # some shells would otherwise recompile ~130 modules in every process, the libraries not).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "budget_app")], check=True)
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(workdir) / 'start.sqlite3'}",
            "BUDGET_APP_UPLOAD_DIR": str(Path(workdir) / "uploads"),
            "SECRET_KEY": "bench-start-secret-key-0123456789abcdef",
        }
        for setup in (["db", "upgrade"], ["seed"]):
            subprocess.run([str(BIN / "flask"), "--app", "budget_app", *setup], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        run(COMMAND, env)  # warm the file cache and the bytecode
        run(BASELINE, env)
        times, memory = ([], [], []), ([], [], [])
        for _ in range(ROUNDS):
            for index, argv in enumerate((BASELINE, COMMAND, HELP)):
                elapsed, rss = run(argv, env)
                times[index].append(elapsed)
                memory[index].append(rss)
    base, command = statistics.median(times[0]), statistics.median(times[1])
    helping = statistics.median(times[2])
    peak = max(memory[1]) / 1024
    print(f"Start: `operations show --json` {command:.2f} s vs bare imports {base:.2f} s "
          f"(median of {ROUNDS}) = {command / base:.2f}x (target <= 2x)")
    print(f"Start: `flask --help` {helping:.2f} s vs bare imports {base:.2f} s = {helping / base:.2f}x (target <= 1.5x)")
    print(f"Start: peak RSS of the command {peak:.0f} MB (target <= 100 MB); bare imports {max(memory[0]) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
