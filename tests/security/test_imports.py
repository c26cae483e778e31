"""Finding 8 of issue 13 (imports): bad-row reports are bounded (first problems listed,
the others counted), a row cap refuses huge files, staged files are 0600 and removed
after confirm, cancel, or a day (`imports cleanup`)."""
import io
import os
import stat
import time
from pathlib import Path

from budget_app.expenses.imports import check_file
from budget_app.kernel.tabular import PROBLEMS_SHOWN
from tests.expenses.conftest import lot, officer  # noqa: F401  (fixtures)

HEADER = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)\n"
GOOD = "04/03/2019;15/03/2019;Bureau;;FA-{n};Fournitures;FONCTIONNEMENT;245,80;49,16;non;100\n"
BAD = "99/99/2019;15/03/2019;Bureau;;FA-{n};Fournitures;FONCTIONNEMENT;abc;49,16;non;100\n"
URL = "/operations/LOT-2019-ACI/depenses/import"


def _post(client, content: bytes):
    return client.post(URL, data={"file": (io.BytesIO(content), "depenses.csv")}, content_type="multipart/form-data")


def test_a_file_of_bad_rows_lists_the_first_problems_and_counts_the_others(client, login, officer, lot):
    login(client, officer)
    content = (HEADER + "".join(BAD.format(n=n) for n in range(2000))).encode()
    page = _post(client, content).get_data(as_text=True)
    assert page.count('<li class="error">') == PROBLEMS_SHOWN
    assert "… et 3800 autre(s) problème(s)." in page  # 2 problems a row
    assert len(page) < 200_000


def test_a_file_over_the_row_cap_is_refused(app, lot):
    app.config["IMPORT_MAX_ROWS"] = 10
    result = check_file(lot, (HEADER + "".join(GOOD.format(n=n) for n in range(11))).encode())
    assert [str(problem) for problem in result.problems] == [
        "Le fichier compte plus de 10 lignes : découpez-le en plusieurs fichiers."]
    assert check_file(lot, (HEADER + "".join(GOOD.format(n=n) for n in range(10))).encode()).problems == []


def _staged(app) -> list[Path]:
    directory = Path(app.config["BUDGET_APP_UPLOAD_DIR"]) / "imports"
    return sorted(directory.iterdir()) if directory.exists() else []


def test_staged_files_are_private_and_removed_on_cancel_and_on_a_new_file(app, client, login, officer, lot):
    login(client, officer)
    _post(client, (HEADER + GOOD.format(n=1)).encode())
    [first] = _staged(app)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    _post(client, (HEADER + GOOD.format(n=2)).encode())  # another file: the first is dropped
    [second] = _staged(app)
    assert second != first
    client.get(URL)  # « Annuler » goes back to the form
    assert _staged(app) == []


def test_a_refused_confirmation_removes_the_staged_file(app, client, login, officer, lot):
    login(client, officer)
    _post(client, (HEADER + GOOD.format(n=1)).encode())
    assert len(_staged(app)) == 1
    client.post(URL + "/confirmer", data={"token": "0" * 32})
    assert _staged(app) == []


def test_imports_cleanup_removes_files_older_than_a_day(app, client, login, officer, lot, runner):
    login(client, officer)
    _post(client, (HEADER + GOOD.format(n=1)).encode())
    [path] = _staged(app)
    result = runner.invoke(args=["imports", "cleanup"])
    assert result.exit_code == 0 and "0 fichier(s)" in result.output and path.exists()
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    result = runner.invoke(args=["imports", "cleanup"])
    assert "1 fichier(s)" in result.output and not path.exists()
