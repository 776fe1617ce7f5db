"""The second opinion: the `formulas` package recalculates a version's workbook and every formula
cell is compared with our engine, by a job queued with the upload."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from fixtures.parity_corpus.tables import row, table_workbook
from forms_cms import tasks as forms_tasks
from forms_cms.engine import workbook_compile
from forms_cms.models import FormVersion, SecondOpinion
from forms_cms.second_opinion import (
    WORKBOOK_SET,
    known_shortcoming,
    same_value,
    workbook_second_opinion,
)
from tests.conftest import run_queued_jobs

from .engine.helpers import workbook_bytes
from .test_versions import NAMES, SHEETS, upload

ROOT = Path(__file__).resolve().parents[2]

# a few of the functions forms use, errors, text and booleans: both engines agree on all
RICH = {
    "Calc": {
        "A1": 1200.5,
        "A2": 3,
        "A3": "Paris",
        "A4": 0,
        "B1": "=ROUND(A1*1.055,2)",
        "B2": "=IF(A2>2,A1/A2,0)",
        "B3": '=A3&" "&A2',
        "B4": "=A1/A4",
        "B5": "=IFERROR(A1/A4,-1)",
        "B6": "=SUM(A1:A2)+MAX(A1,A2)-MIN(A1,A2)",
        "B7": "=A2>=3",
        "B8": "=LEFT(A3,3)",
        "B9": '=SUMIF(A1:A2,">2")',
        "B10": "=INT(A1)+MOD(A1,7)",
    }
}
RICH_NAMES = {
    "MONTANT": "Calc!$A$1",
    "NOMBRE": "Calc!$A$2",
    "VILLE": "Calc!$A$3",
    "DIVISEUR": "Calc!$A$4",
    "ARRONDI": "Calc!$B$1",
    "MOYENNE": "Calc!$B$2",
}


def test_a_small_workbook_agrees_on_its_values_and_random_ones():
    opinion = workbook_second_opinion(workbook_bytes(RICH, RICH_NAMES))
    assert opinion.disagreements == []
    assert opinion.cells == 10
    assert opinion.input_sets == 4  # the workbook's own values and three random sets
    assert opinion.unchecked == 0


class Planted:
    """Our compiled form, with one cell's result changed after each evaluation: a bug in our
    engine planted on purpose (any real construct that differs would be fixed, not kept)."""

    def __init__(self, form, name, value):
        self._form, self._cid, self._value = form, form.names[name], value

    def __getattr__(self, attribute):
        return getattr(self._form, attribute)

    def evaluate(self, inputs=None):
        v = self._form.evaluate(inputs)
        v[self._cid] = self._value
        return v


def test_a_planted_disagreement_names_cell_field_formula_and_both_values():
    content = workbook_bytes(SHEETS, NAMES)
    form = Planted(workbook_compile(io.BytesIO(content)), "TOTAL_PASSIF", 999.0)
    opinion = workbook_second_opinion(content, engine_form=form)
    assert opinion.cells == 3
    [line] = opinion.disagreements
    assert (line.cell, line.name, line.formula) == ("Passif!B5", "TOTAL_PASSIF", "=B3+B4")
    assert (line.ours, line.theirs) == ("999", "1250.5")
    assert line.input_set == WORKBOOK_SET  # one line per cell: the first set that differs
    assert opinion.known == []


def test_a_difference_on_a_known_shortcoming_is_listed_apart():
    # Excel rounds the decimal 1.005 up; `formulas` rounds its binary value (1.00499…) down
    sheets = {"S": {"A1": 1.005, "B1": "=ROUND(A1,2)", "B2": "=A1*2"}}
    content = workbook_bytes(sheets, {"SAISIE": "S!$A$1", "ARRONDI": "S!$B$1"})
    opinion = workbook_second_opinion(content)
    assert opinion.disagreements == []
    [line] = opinion.known
    assert (line.cell, line.name, line.ours, line.theirs) == ("S!B1", "ARRONDI", "1.01", "1")
    assert "arrondit" in line.reason
    assert known_shortcoming("=A1*2") == ""


def test_structured_references_are_counted_unchecked():
    content = table_workbook([row("Beta", 1500, 0.4, "SA"), row("Gamma", 200, 0.5, "SAS")])
    opinion = workbook_second_opinion(content)
    # Part and Ratio on both rows, and the 17 synthesis formulas written over the table's names
    assert opinion.unchecked == 4 + 17
    # the A1-range totals below the table and in the synthesis are compared: `formulas` is
    # given our values of the Part column (600 and 100) and agrees on their sum
    assert opinion.cells == 4
    assert opinion.disagreements == []


def test_values_compare_as_excel_values():
    from forms_cms.engine import XLError

    assert same_value(None, 0.0) and same_value(0.0, None) and same_value("", None)
    assert same_value(1.0, 1.0 + 1e-12) and not same_value(1.0, 1.001)
    assert not same_value(1.0, "1") and not same_value(True, 1.0)
    assert same_value(XLError.get("#DIV/0!"), XLError.get("#div/0!"))
    assert not same_value(XLError.get("#DIV/0!"), XLError.get("#VALUE!"))


# --- the job and the version page ----------------------------------------------------------


@pytest.fixture
def gestionnaire(demo_user, settings):
    settings.HARMONIA_SECOND_OPINION = True
    return demo_user("dhup", "gestionnaire")


def page(client_for, user, version) -> str:
    response = client_for("dhup", user).get(f"/formulaires/{version.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_upload_queues_the_job_and_the_page_shows_its_verdict(client_for, gestionnaire):
    version = upload("dhup", workbook_bytes(RICH, RICH_NAMES), user=gestionnaire)
    with schema_context("dhup"):
        assert SecondOpinion.objects.get(version=version).status == SecondOpinion.Status.PENDING
    assert "vérification en attente" in page(client_for, gestionnaire, version)
    assert run_queued_jobs() == 1
    with schema_context("dhup"):
        opinion = SecondOpinion.objects.get(version=version)
    assert opinion.status == SecondOpinion.Status.DONE
    assert opinion.finished_at is not None and opinion.error == ""
    html = page(client_for, gestionnaire, version)
    assert "Vérifié par un second moteur : 10 cellules, 0 écart." in html
    assert "vérification en" not in html


@pytest.mark.django_db
def test_only_gestionnaires_see_the_second_opinion(client_for, gestionnaire, demo_user):
    version = upload("dhup", workbook_bytes(RICH, RICH_NAMES), user=gestionnaire)
    run_queued_jobs()
    assert 'data-testid="second-opinion"' in page(client_for, gestionnaire, version)
    for role in ("organisme", "partenaire-cdc"):
        html = page(client_for, demo_user("dhup", role), version)
        assert "second moteur" not in html.lower() and "Vérifié par" not in html


@pytest.mark.django_db
def test_the_page_lists_each_disagreement(client_for, gestionnaire, monkeypatch):
    planted = {}

    def compiled_with_a_bug(version):
        with schema_context("dhup"):
            content = bytes(version.file("source").content)
        planted["form"] = Planted(workbook_compile(io.BytesIO(content)), "TOTAL_ACTIF", 1.5)
        return planted["form"]

    monkeypatch.setattr(forms_tasks, "compiled_form", compiled_with_a_bug)
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    run_queued_jobs()
    html = page(client_for, gestionnaire, version)
    # the value is planted after the evaluation: the cells reading TOTAL_ACTIF keep their right
    # values, so only the planted cell differs
    assert "Vérifié par un second moteur : 3 cellules, 1 écart." in html
    line = html[html.index('data-testid="second-opinion-disagreements"') :]
    for text in ("Actif!B5", "TOTAL_ACTIF", "<td>1.5</td>", "<td>1250.5</td>", "=SUM(B3:B4)"):
        assert text in line


@pytest.mark.django_db
def test_a_failure_is_recorded_and_shown_in_french(client_for, gestionnaire, monkeypatch):
    def broken(content, **kwargs):
        raise ValueError("unreadable")

    monkeypatch.setattr(forms_tasks, "workbook_second_opinion", broken)
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    run_queued_jobs()
    with schema_context("dhup"):
        opinion = SecondOpinion.objects.get(version=version)
    assert opinion.status == SecondOpinion.Status.FAILED
    assert "a échoué" in opinion.error and "ValueError" in opinion.error
    assert opinion.error in page(client_for, gestionnaire, version).replace("&#x27;", "'")


@pytest.mark.django_db
def test_a_refused_upload_queues_nothing(gestionnaire):
    from forms_cms.services import FormImportError

    with pytest.raises(FormImportError):
        upload("dhup", b"not a workbook", user=gestionnaire)
    assert run_queued_jobs() == 0
    with schema_context("dhup"):
        assert not FormVersion.objects.exists()
        assert not SecondOpinion.objects.exists()


@pytest.mark.slow
def test_the_er_sociaux_workbook_agrees_everywhere():
    """The full ER Sociaux fixture (3,713 formulas): about 3 minutes on a busy 2-core machine,
    most of it `formulas` loading the workbook (deselect with -m "not slow")."""
    sys.path.insert(0, str(ROOT / "bench"))
    from form_fixture import er_workbook

    opinion = workbook_second_opinion(er_workbook().read_bytes())
    assert opinion.cells > 3000
    assert opinion.disagreements == [], opinion.disagreements[:10]
