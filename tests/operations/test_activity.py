"""Monthly activity report: figures against constructed dossiers in dhup and oph, the
federation's "ER transmitted" count, PDF text, XLSX cells, production and access; the
automatic run of the 1st of each month (one report per platform, once a month, scheduled)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from openpyxl import load_workbook
from pypdf import PdfReader

from operations import activity
from operations.models import PLATFORM_CHOICES, ActivityReport, Anomaly

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
        # the ER sociaux are filed by the OPH, ESH and coopératives, the ER SAC by the SAC
        bound = Organism.objects.filter(is_active=True, family__in=["OPH", "ESH", "COOP"]).count()
        sac = Organism.objects.filter(is_active=True, family="SAC").count()
    figures = activity.activity_figures("dhup", 2024)
    assert figures.organisms == total
    assert figures.anomalies_since_january == 1
    er = next(d for d in figures.documents if d.code == "ER_SOCIAUX")
    steps = _lines(er)
    assert [steps[c].count for c in ["1", "2", "3", "4", "4R", "5", "6"]] == [1, 2, 1, 1, 1, 1, 1]
    assert steps["2"].by_family == {"OPH": 1, "ESH": 1}
    assert steps["2"].share_fr == activity.percent_fr(200 / bound)
    assert steps["2"].er_transmitted is None
    sub = next(line for line in er.substeps if line.code == constructed["sub"])
    assert sub.count == 2 and sub.by_family == {"OPH": 1, "ESH": 1}
    assert er.not_initialised.count == bound - 8
    assert er.not_initialised.by_family["OPH"] == figures.organisms_by_family["OPH"] - 6
    assert er.not_initialised.by_family["MOI"] == 0  # not waited for
    other = next(d for d in figures.documents if d.code == "ER_SAC")
    assert sum(line.count for line in other.steps) == 0
    assert other.not_initialised.count == sac < total


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


def _pair(ministry, platform, document, *, remove=None):
    """As the ministry's gestionnaire on the pairs screen: remove (ministry, platform)'s pair,
    then pair ``ministry`` with ``document`` of ``platform``."""
    from accounts.models import User
    from declarations.models import TroncCommunPair
    from declarations.services.tc_pairs import tc_pair_create, tc_pair_delete

    with schema_context("dhup"):
        user = User.objects.get(username="gestionnaire")
        if remove:
            tc_pair_delete(
                pair=TroncCommunPair.objects.get(
                    ministry_document__code=remove[0], platform=remove[1]
                ),
                acting_user=user,
            )
        if ministry:
            tc_pair_create(
                ministry_document=ministry, platform=platform, document=document, acting_user=user
            )


def _move(code, document, sirens, step, substep_code):
    from workflow.models import Dossier, FiabilisationStep

    with schema_context(code):
        Dossier.objects.filter(document_type__code=document, organism__siren__in=sirens).update(
            step=step, substep=FiabilisationStep.objects.get(code=substep_code)
        )


def test_federation_er_transmitted_per_substep(constructed):
    from organisms.models import Organism

    with schema_context("oph"):
        sirens = list(
            Organism.objects.filter(is_active=True)
            .order_by("siren")
            .values_list("siren", flat=True)
        )[:6]
    # the 3rd, 4th and 5th at the sub-step on oph: on dhup their ER are at 3, 4 and 5
    _move("oph", "QDIS_OPH", sirens[2:5], "4", constructed["sub"])
    figures = activity.activity_figures("oph", 2024)
    qdis = next(d for d in figures.documents if d.code == "QDIS_OPH")
    assert qdis.er_document == "ER_SOCIAUX"
    sub = next(line for line in qdis.substeps if line.code == constructed["sub"])
    assert (sub.count, sub.er_transmitted) == (3, 2)
    others = [line for line in qdis.substeps if line.code != constructed["sub"]]
    assert others and {line.er_transmitted for line in others} == {0}
    steps = _lines(qdis)
    assert (steps["4"].count, steps["4"].er_transmitted) == (3, 2)
    assert (steps["2"].count, steps["2"].er_transmitted) == (2, 0)
    assert (steps["3"].count, steps["3"].er_transmitted) == (1, 1)

    # the page (PDF) and its export show them
    pdf = activity.report_pdf(figures)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.replace("\u00a0", " ").split())
    assert "organismes ayant transmis leur ER_SOCIAUX sur la plateforme du ministère" in text
    share = activity.percent_fr(300 / figures.organisms).replace("\u00a0", " ")
    assert f"{sub.label} 3 {share} 2" in text
    sheet = load_workbook(io.BytesIO(activity.report_xlsx(figures)))["QDIS_OPH"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows()}
    assert rows[sub.label][1] == 3 and rows[sub.label][-1] == 2
    assert rows["4 — Fiabilisation"][-1] == 2
    assert any(
        label and "ayant transmis leur ER_SOCIAUX" in label for label in rows
    )  # which ER is counted


def test_the_report_follows_the_configured_pairs(constructed):
    figures = activity.activity_figures("oph", 2024)
    survey = next(d for d in figures.documents if d.code == "ENQUETE_OPH")
    assert survey.er_document == "" and {
        line.er_transmitted for line in [*survey.steps, *survey.substeps]
    } == {None}  # not paired: nothing to count
    # the ministry's gestionnaires pair the QDIS OPH with the ER SAC instead: none filed
    _pair("ER_SAC", "oph", "QDIS_OPH", remove=("ER_SOCIAUX", "oph"))
    qdis = next(d for d in activity.activity_figures("oph", 2024).documents if d.code == "QDIS_OPH")
    assert qdis.er_document == "ER_SAC"
    assert _lines(qdis)["3"].count == 2 and _lines(qdis)["3"].er_transmitted == 0
    # unpaired: the column stays empty, and the report says why
    _pair(None, None, None, remove=("ER_SAC", "oph"))
    figures = activity.activity_figures("oph", 2024)
    qdis = next(d for d in figures.documents if d.code == "QDIS_OPH")
    assert qdis.er_document == ""
    assert {line.er_transmitted for line in [*qdis.steps, *qdis.substeps]} == {None}
    html = activity.report_html(figures)
    assert "aucun document du ministère n&#x27;est apparié avec ce document" in html


def test_the_epl_report_counts_the_er_sem(demo_user):
    """ER SEM ↔ QDIS SEM: the EPL federation's organisms are counted on their ER SEM, not on
    an ER sociaux they may also have."""
    from organisms.models import Organism

    gestionnaire = demo_user("dhup", "gestionnaire")
    er_sem = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, document="ER_SEM")
    er = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    qdis = upload(
        "epl",
        workbook_bytes(SHEETS, NAMES),
        user=demo_user("epl", "gestionnaire"),
        document="QDIS_SEM",
    )
    with schema_context("epl"):
        epl_orgs = list(Organism.objects.filter(is_active=True).order_by("siren")[:3])
    with schema_context("dhup"):
        same = [Organism.objects.get(siren=o.siren) for o in epl_orgs]
    _dossiers("dhup", er_sem, same, ["4", "5", "2"])
    _dossiers("dhup", er, same, ["6", "6", "6"])
    _dossiers("epl", qdis, epl_orgs, ["3", "3", "3"])
    figures = activity.activity_figures("epl", 2024)
    document = next(d for d in figures.documents if d.code == "QDIS_SEM")
    assert document.er_document == "ER_SEM"
    assert (_lines(document)["3"].count, _lines(document)["3"].er_transmitted) == (3, 2)


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
    # the year's anomalies are listed, not only counted (A-2 was found last year)
    assert [a.number for a in figures.anomalies] == ["A-1"]
    assert "A-1 " + WORDS in text and "A-2" not in text
    listed = workbook["anomalies"]
    assert [c.value for c in listed[2]][:3] == ["A-1", WORDS, "Mineure"]
    assert listed.max_row == 2

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


# --- the automatic report of the 1st of each month ------------------------------------------


def _run_monthly_job() -> list[int]:
    from operations.tasks import monthly_activity_reports

    # procrastinate passes the scheduled time; the job calls the same service whatever it is
    return monthly_activity_reports(timestamp=int(timezone.now().timestamp()))


@pytest.fixture
def campaigns_open_today():
    """The demo campaigns (exercise 2024) open today on every platform, whenever the test
    database was built."""
    from workflow.models import Campaign

    today = timezone.localdate()
    for code in ["dhup", "oph", "esh", "coop", "epl"]:
        with schema_context(code):
            Campaign.objects.filter(exercise=2024).update(
                opening_date=today - timedelta(days=30), deadline=today + timedelta(days=30)
            )


def test_monthly_job_stores_one_automatic_report_per_platform(
    constructed, campaigns_open_today, client_for, demo_user
):
    from organisms.models import Organism
    from workflow.models import Campaign

    with schema_context("epl"):  # a platform without any campaign is skipped
        Campaign.objects.all().delete()

    ids = _run_monthly_job()

    reports = {r.platform: r for r in ActivityReport.objects.filter(pk__in=ids)}
    assert sorted(reports) == ["coop", "dhup", "esh", "oph"]
    assert ActivityReport.objects.count() == 4
    for code, report in reports.items():
        assert report.produced_by is None and report.exercise == 2024
        with schema_context(code):
            organisms = Organism.objects.filter(is_active=True).count()
        pdf = PdfReader(io.BytesIO(bytes(report.pdf)))
        text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
        assert f"{dict(PLATFORM_CHOICES)[code]} — exercice 2024" in text
        workbook = load_workbook(io.BytesIO(bytes(report.xlsx)))
        assert workbook["synthèse"]["B3"].value == organisms
    # the dossiers built on oph are counted in its report: 4 at step 2, 2 at step 3
    qdis = load_workbook(io.BytesIO(bytes(reports["oph"].xlsx)))["QDIS_OPH"]
    assert [c.value for c in qdis[3]][:2] == ["2 — En cours de saisie", 4]
    assert [c.value for c in qdis[4]][1] == 2
    er = load_workbook(io.BytesIO(bytes(reports["dhup"].xlsx)))["ER_SOCIAUX"]
    assert [row[1].value for row in er.iter_rows(min_row=2, max_row=8)] == [1, 2, 1, 1, 1, 1, 1]

    listing = client_for("public", demo_user("public", "cglls")).get("/operateur/activite/")
    assert listing.status_code == 200
    assert listing.content.decode().count("<td>automatique</td>") == 4


def test_monthly_job_runs_once_a_month(campaigns_open_today, demo_user):
    from operations.services_activity import activity_report_produce

    # a report asked by someone this month does not stand for the automatic one
    activity_report_produce(platform="oph", exercise=2024, by=demo_user("public", "cglls"))
    # nor does last month's automatic report
    old = activity_report_produce(platform="esh", exercise=2024, by=None)
    ActivityReport.objects.filter(pk=old.pk).update(produced_at=timezone.now() - timedelta(days=32))

    first = _run_monthly_job()
    assert len(first) == 5
    assert _run_monthly_job() == []  # again the same month (a retry, a second defer)
    automatic = ActivityReport.objects.filter(produced_by__isnull=True)
    assert automatic.count() == 6
    assert sorted(automatic.filter(pk__in=first).values_list("platform", flat=True)) == sorted(
        ["dhup", "oph", "esh", "coop", "epl"]
    )


def test_exercise_of_the_campaign_under_way(campaigns_open_today, demo_user):
    from operations.services_activity import current_exercise
    from workflow.models import Campaign

    today = timezone.localdate()
    gestionnaire = demo_user("coop", "gestionnaire")
    with schema_context("coop"):
        Campaign.objects.create(  # next year's, not open yet
            exercise=2025,
            opening_date=today + timedelta(days=10),
            deadline=today + timedelta(days=100),
            opened_by=gestionnaire,
        )
        assert current_exercise("coop") == 2024
        # once every campaign is closed, the most recently opened one still counts
        Campaign.objects.filter(exercise=2024).update(
            opening_date=today - timedelta(days=200), deadline=today - timedelta(days=100)
        )
        Campaign.objects.filter(exercise=2025).update(
            opening_date=today - timedelta(days=90), deadline=today - timedelta(days=1)
        )
        assert current_exercise("coop") == 2025
        Campaign.objects.all().delete()
        assert current_exercise("coop") is None


def test_monthly_job_is_scheduled_on_the_first_at_six():
    from procrastinate.contrib.django import app
    from procrastinate.periodic import PeriodicDeferrer

    from operations.tasks import MONTHLY_ACTIVITY_CRON, MONTHLY_ACTIVITY_TASK

    assert MONTHLY_ACTIVITY_CRON == "0 6 1 * *"
    periodic = app.periodic_registry.periodic_tasks[(MONTHLY_ACTIVITY_TASK, "")]
    assert periodic.cron == MONTHLY_ACTIVITY_CRON
    assert app.tasks[MONTHLY_ACTIVITY_TASK] is periodic.task

    # what a worker's periodic deferrer queues (procrastinate reads the cron in UTC)
    def due(at: datetime) -> list[int]:
        deferrer = PeriodicDeferrer(registry=app.periodic_registry)
        return [
            timestamp
            for task, timestamp in deferrer.get_previous_tasks(at=at.timestamp())
            if task.task.name == MONTHLY_ACTIVITY_TASK
        ]

    first = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
    assert due(first + timedelta(minutes=2)) == [int(first.timestamp())]
    assert due(first - timedelta(minutes=2)) == []
    assert due(datetime(2025, 3, 2, 6, 1, tzinfo=UTC)) == []


def test_the_report_counts_late_and_prorogated_organisms(constructed, demo_user):
    """Each organism's own deadline: the coopératives and ESH whose assembly was in May 2025
    are late unless transmitted (constructed dossiers carry no transmission date) or
    prorogated; OPH without a known regime follow the campaign's date (not passed)."""
    from forms_cms.models import DocumentType
    from organisms.models import Organism
    from workflow.models import AccountsApproval, Campaign, Dossier, Prorogation

    before = next(
        d for d in activity.activity_figures("dhup", 2024).documents if d.code == "ER_SOCIAUX"
    )  # the demo's own late and prorogated organisms
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        coops = list(
            Organism.objects.filter(is_active=True, family="COOP")
            .exclude(approvals__exercise=2024)
            .order_by("pk")[:3]
        )
        for organism in coops:
            AccountsApproval.objects.create(
                organism=organism, exercise=2024, approved_on=date(2025, 5, 20)
            )
        # the second transmitted its ER, the third was granted a prorogation
        Dossier.objects.create(
            organism=coops[1], campaign=campaign, document_type=er,
            form_version=er.versions.first(), step="4", transmitted_at=timezone.now(),
        )  # fmt: skip
        Prorogation.objects.create(
            organism=coops[2], campaign=campaign, document_type=er, decided_on=date(2025, 6, 1),
            new_deadline=timezone.localdate() + timedelta(days=10),
        )  # fmt: skip
    figures = activity.activity_figures("dhup", 2024)
    er_figures = next(d for d in figures.documents if d.code == "ER_SOCIAUX")
    assert er_figures.late.count == before.late.count + 1
    assert er_figures.late.by_family["COOP"] == before.late.by_family.get("COOP", 0) + 1
    assert er_figures.prorogated.count == before.prorogated.count + 1
    # the late dossiers are listed: the first coopérative (never initialised), not the others
    late = {d.siren: d for d in er_figures.late_dossiers}
    assert len(late) == er_figures.late.count
    assert coops[0].siren in late and coops[1].siren not in late and coops[2].siren not in late
    assert (late[coops[0].siren].step, late[coops[0].siren].family) == ("Non initialisé", "COOP")
    assert late[coops[0].siren].deadline is not None
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(activity.report_pdf(figures))).pages
    )
    assert (
        "En retard (date limite dépassée, non transmis)" in text and "Date limite prorogée" in text
    )
    sheet = load_workbook(io.BytesIO(activity.report_xlsx(figures)))["ER_SOCIAUX"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert rows["En retard (date limite dépassée, non transmis)"] == er_figures.late.count
    assert rows["Date limite prorogée"] == er_figures.prorogated.count
    assert f"Dossiers en retard ({er_figures.late.count})" in text
    late_sheet = load_workbook(io.BytesIO(activity.report_xlsx(figures)))["ER_SOCIAUX retards"]
    sirens = [row[1] for row in late_sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(sirens) == sorted(late)
