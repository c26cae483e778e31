"""Files people send: the PDF wraps long texts (the operation's title, labels, the staff
computations and reasons), never cuts them with « … »; ZIP entries carry real dates (see
test_staff_evidence)."""
import io
from datetime import date
from decimal import Decimal as D

from pypdf import PdfReader

from budget_app.claims import lifecycle, pdf
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line

LONG_TITLE = ("Accompagnement socioprofessionnel renforcé des bénéficiaires du revenu de solidarité active "
              "entrant dans le dispositif, avec un suivi individualisé et des ateliers collectifs dans chaque "
              "territoire du département, jusqu'au dernier mot FINDUTITRE")


def _text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_long_texts_wrap_and_are_never_cut(claims_world):
    operation = claims_world["operation"]
    operation.title = LONG_TITLE
    db.session.commit()
    make_staff_line(operation, "3000.00", hours=D("100"), rate=D("30.00"), name="Petit-Longuenomdefamille",
                    evidence=False)
    draft = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31), final=False)
    text = _text(pdf.pdf_bytes(build_report(operation, date(2023, 1, 1), date(2023, 1, 31), draft)))
    assert "…" not in text
    assert "FINDUTITRE" in text
    # The flat rate's whole label, and the whole reason of the line missing its documents.
    assert "sur les frais de personnel directs (RPDC 54(b))" in text
    assert "(fiche de temps signée ou bulletin de paie)" in text
