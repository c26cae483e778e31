"""The bilan's PDF is drawn without fpdf2 or fontTools (issue 27: fpdf2 cost 44 MB once
imported; ``claims pack`` <= 120 MB): a process that writes one loads neither."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from budget_app import create_app
from budget_app.kernel.extensions import db
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    db.create_all()
    from tests.claims.test_pdf_imports import a_pdf
    data = a_pdf(sys.argv[2])
print(json.dumps([data[:5].decode(), [name for name in ("fpdf", "fontTools") if name in sys.modules]]))
"""


def a_pdf(plan: str) -> bytes:
    """The état récapitulatif of January 2023 of the seed's operation (its plan loaded)."""
    from datetime import date

    from budget_app.claims import pdf
    from budget_app.claims.report import build_report
    from budget_app.kernel.extensions import db
    from budget_app.operations.loader import load_operation_file
    from budget_app.operations.models import Operation

    code = load_operation_file(Path(plan)).code
    db.session.commit()
    operation = db.session.scalar(db.select(Operation).filter_by(code=code))
    return pdf.pdf_bytes(build_report(operation, date(2023, 1, 1), date(2023, 1, 31)))


def test_writing_a_pdf_loads_neither_fpdf2_nor_fonttools(app_config, tmp_path):
    config = {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pdf.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(config), str(ROOT / "fixtures" / "hl-rsa-2023.toml")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["%PDF-", []]
