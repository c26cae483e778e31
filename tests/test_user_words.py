"""What a person reads never shows the project's internal names: no « primer § » (a file
users of the product do not have; the regulation or the national guidance is quoted
instead), no path of the repository (« fixtures/… »), no category or flat-rate code where a
label exists (« INDIRECTS_15 », « FONCTIONNEMENT »): every marked message and template text."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from budget_app.operations.models import COST_CATEGORIES, FLAT_RATES, PARTICIPANT_SUBCATEGORIES

ROOT = Path(__file__).resolve().parent.parent
# Messages of the command line that name a value of the operation's file (its key or code):
# read by whoever edits that file, never on a page (``kernel.errors.ForReader``).
FILE_MESSAGES = {"indiquez fse_amount_fixed = true", "avance prévue par la convention : advance_override = true avec son motif"}


def _messages():
    method_map = [("budget_app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
    for filename, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map=method_map, keywords=keywords):
        yield filename, message if isinstance(message, str) else message[0]


def test_no_message_quotes_the_primer_a_repository_path_or_a_code():
    codes = re.compile(r"\b(" + "|".join(sorted(set(COST_CATEGORIES) | set(FLAT_RATES) | set(PARTICIPANT_SUBCATEGORIES),
                                                  key=len, reverse=True)) + r")\b")
    found = []
    for filename, message in _messages():
        # The command line and the imports name the values a file holds (its codes).
        if message in FILE_MESSAGES or re.search(r"cli\.py$|commands\.py$|imports\.py$", filename):
            continue
        if re.search(r"\bprimer\b|fixtures/|\.py\b", message, re.IGNORECASE) or codes.search(message):
            found.append(f"{filename}: {message}")
    assert found == []


def test_templates_print_labels_not_codes():
    """A template prints a category through its label (``category_label``, ``labels``)."""
    found = []
    for path in ROOT.glob("templates/**/*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\{\{\s*[\w.]*\.category\s*\}\}", line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
