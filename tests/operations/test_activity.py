"""Monthly activity report: figures against constructed dossiers in dhup and oph, the
federation's "ER transmitted" count, PDF text, XLSX cells, production and access."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from openpyxl import load_workbook
from pypdf import PdfReader

from operations import activity
from operations.models import ActivityReport, Anomaly

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db

WORDS = " ".join(["mot"] * 25)


def _dossiers(code, version, organisms, steps, substep_code=None):
    from workflow.models import Dossier, FiabilisationStep

    with schema_context(code):
        substep = FiabilisationStep.objects.filter(code=substep_code).first()
        Dossier.objects.bulk_create(
            Dossier(
                organism=o,
                campaign=version.campaign,
                document_type=version.document_type,
                form_version=version,
                step=step,
                substep=substep if step in ("4", "4R") else None,
            )
            for o, step in zip(organisms, steps, strict=True)
        )


@pytest.fixture
def constructed(demo_user):
    from organisms.models import Organism
    from workflow.models import FiabilisationStep

    er = upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "gestionnaire"))
    qdis = upload(
        "oph",
        workbook_bytes(SHEETS, NAMES),
        user=demo_user("oph", "gestionnaire"),
        document="QDIS_OPH",
    )
    with schema_context("oph"):
        oph_orgs = list(Organism.objects.filter(is_active=True).order_by("siren")[:6])
        sirens = [o.siren for o in oph_orgs]
    with schema_context("dhup"):
        sub = FiabilisationStep.objects.order_by("position", "code").first().code
        by_siren = {o.siren: o for o in Organism.objects.filter(siren__in=sirens)}
        assert len(by_siren) == 6  # federation members share their SIREN with dhup
        same = [by_siren[s] for s in sirens]
        others = list(
            Organism.objects.filter(is_active=True, family="ESH")
            .exclude(siren__in=sirens)
            .order_by("siren")[:2]
        )
    # dhup ER: the six OPH members at 1, 2, 3, 4 (sub-step), 5, 6; two ESH at 2 and 4R
    _dossiers("dhup", er, same, ["1", "2", "3", "4", "5", "6"], sub)
    _dossiers("dhup", er, others, ["2", "4R"], sub)
    # oph QDIS: the same six, all at step 2 except the last two at 3
    _dossiers("oph", qdis, oph_orgs, ["2", "2", "2", "2", "3", "3"])
    Anomaly.objects.create(
        number="A-1",
        short_description=WORDS,
        severity="minor",
        found_on=date(timezone.localdate().year, 1, 2),
        reporter="x",
        platforms=["dhup", "oph"],
    )
    Anomaly.objects.create(
        number="A-2",
        short_description=WORDS,
        severity="minor",
        found_on=date(timezone.localdate().year - 1, 12, 31),
        reporter="x",
        platforms=["dhup"],
    )
    return {"sub": sub}


def _lines(doc):
    return {line.code: line for line in doc.steps}


def test_ministry_figures(constructed):
    from organisms.models import Organism

    with schema_context("dhup"):
        total = Organism.objects.filter(is_active=True).count()
    figures = activity.activity_figures("dhup", 2024)
    assert figures.organisms == total
    assert figures.anomalies_since_january == 1
    er = next(d for d in figures.documents if d.code == "ER_SOCIAUX")
    steps = _lines(er)
    assert [steps[c].count for c in ["1", "2", "3", "4", "4R", "5", "6"]] == [1, 2, 1, 1, 1, 1, 1]
    assert steps["2"].by_family == {"OPH": 1, "ESH": 1}
    assert steps["2"].share_fr == activity.percent_fr(200 / total)
    assert steps["2"].er_transmitted is None
    sub = next(line for line in er.substeps if line.code == constructed["sub"])
    assert sub.count == 2 and sub.by_family == {"OPH": 1, "ESH": 1}
    assert er.not_initialised.count == total - 8
    assert er.not_initialised.by_family["OPH"] == figures.organisms_by_family["OPH"] - 6
    other = next(d for d in figures.documents if d.code == "ER_SAC")
    assert sum(line.count for line in other.steps) == 0
    assert other.not_initialised.count == total


def test_federation_er_transmitted(constructed):
    figures = activity.activity_figures("oph", 2024)
    assert figures.anomalies_since_january == 1 and figures.families == []
    qdis = next(d for d in figures.documents if d.code == "QDIS_OPH")
    steps = _lines(qdis)
    assert steps["2"].count == 4 and steps["3"].count == 2
    # on dhup those six are at 1, 2, 3, 4 | 5, 6: transmitted ones are at 4, 5, 6
    assert steps["2"].er_transmitted == 1
    assert steps["3"].er_transmitted == 2
    assert steps["1"].er_transmitted == 0
    assert qdis.not_initialised.count == figures.organisms - 6


def test_pdf_and_xlsx(constructed):
    figures = activity.activity_figures("oph", 2024)
    pdf = activity.report_pdf(figures)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.replace("\u00a0", " ").split())
    assert "Fédération des OPH — exercice 2024" in text
    assert f"Organismes inscrits (actifs) {figures.organisms}" in text
    assert "Anomalies depuis le 1er janvier 1" in text
    assert "dont ER transmis (DHUP)" in text
    share = activity.percent_fr(400 / figures.organisms).replace("\u00a0", " ")
    assert f"2 — En cours de saisie 4 {share} 1" in text

    workbook = load_workbook(io.BytesIO(activity.report_xlsx(figures)))
    assert workbook.sheetnames[0] == "synthèse" and "QDIS_OPH" in workbook.sheetnames
    assert workbook["synthèse"]["B3"].value == figures.organisms
    assert workbook["synthèse"]["B4"].value == 1
    sheet = workbook["QDIS_OPH"]
    assert [c.value for c in sheet[1]][-1] == "dont ER transmis (DHUP)"
    row = [c.value for c in sheet[3]]  # step 2
    assert row[:2] == ["2 — En cours de saisie", 4] and row[-1] == 1
    assert row[2] == pytest.approx(4 / figures.organisms)

    ministry = load_workbook(
        io.BytesIO(activity.report_xlsx(activity.activity_figures("dhup", 2024)))
    )
    header = [c.value for c in ministry["ER_SOCIAUX"][1]]
    assert "OPH" in header and "ESH" in header


def test_produce_store_list_and_access(constructed, client_for, demo_user):
    cglls = client_for("public", demo_user("public", "cglls"))
    response = cglls.post("/operateur/activite/", {"platform": "oph", "exercise": "2024"})
    assert response.status_code == 302
    report = ActivityReport.objects.get()
    assert report.platform == "oph" and report.exercise == 2024
    assert bytes(report.pdf).startswith(b"%PDF")
    listing = cglls.get("/operateur/activite/")
    assert listing.status_code == 200 and f"/operateur/activite/{report.pk}/pdf/" in (
        listing.content.decode()
    )
    download = cglls.get(f"/operateur/activite/{report.pk}/xlsx/")
    assert download.status_code == 200 and download["Content-Type"].endswith("sheet")
    assert (
        client_for("public", demo_user("public", "hotline")).get("/operateur/activite/").status_code
        == 200
    )

    # platform users get nothing: the operator's space is not served on a platform's host
    for code, username in [("dhup", "gestionnaire"), ("oph", "organisme")]:
        outsider = client_for(code, demo_user(code, username))
        for url in ["/operateur/activite/", f"/operateur/activite/{report.pk}/pdf/"]:
            assert outsider.get(url).status_code in (403, 404)
        response = outsider.post("/operateur/activite/", {"platform": "oph", "exercise": "2024"})
        assert response.status_code in (403, 404)
    assert ActivityReport.objects.count() == 1
    anonymous = client_for("public")
    assert anonymous.get("/operateur/activite/").status_code in (302, 403)
