"""A worker gives back the memory a large request freed (kernel/memory, issue 27)."""
from budget_app.kernel import memory


def test_trims_only_once_the_process_grew_by_the_step(monkeypatch):
    sizes = iter([100, 103, 105, 104, 108, 109])  # MB: at start, then after each request
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(sizes) * 1024 * 1024)
    trimmed = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: trimmed.append)
    trimmer = memory.Trimmer(4)
    # 103: +3 MB, kept; 105: +5 MB, trimmed (down to 104, the new floor); 108: +4, trimmed.
    assert [trimmer.after_request() for _ in range(3)] == [False, True, True]
    assert trimmed == [0, 0]
    assert trimmer.floor == 109 * 1024 * 1024


def test_a_step_of_zero_never_trims(monkeypatch):
    monkeypatch.setattr(memory, "resident_bytes", lambda: 10**12)
    trimmer = memory.Trimmer(0)
    assert trimmer.malloc_trim is None and not trimmer.after_request()


def test_the_trim_runs_after_the_response_is_sent(app, client):
    trimmer = app.extensions["memory_trimmer"]
    calls = []
    trimmer.after_request = lambda: calls.append(1)
    response = client.get("/sante")
    assert response.status_code == 200
    response.close()
    assert calls == [1]


def test_sheets_are_written_and_read_without_pillow_which_stays_importable():
    """``load_openpyxl`` (issue 27: Pillow is 2 MB per worker, and openpyxl imports it only
    for images): in a fresh process, as in a worker, a claim-like sheet is written and read
    back through the application's reader without Pillow loaded; Pillow can still be
    imported afterwards (the seed's fpdf2 uses it)."""
    import subprocess
    import sys

    script = """
import io, sys
from budget_app.kernel import xlsx_rows
from budget_app.kernel.memory import load_openpyxl
load_openpyxl()
from openpyxl import Workbook
workbook = Workbook(write_only=True)
sheet = workbook.create_sheet("Feuille")
sheet.append(["Libellé", 12.5])
buffer = io.BytesIO()
workbook.save(buffer)
read = xlsx_rows.open_workbook(buffer.getvalue())
assert list(xlsx_rows.sheet_values(read.worksheets[0], 2)) == [("Libellé", 12.5)]
print("PIL" in sys.modules, "PIL.Image" in sys.modules)
import PIL.Image
print("PIL.Image" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "True"]
