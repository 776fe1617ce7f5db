"""French formats across the platform: years never grouped (« 2024 », not « 2 024 »), French
month abbreviations, plurals, exports in local time with typed dates, the activity report's
default exercise."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.template import Context, Template
from django.utils import timezone
from django_tenants.utils import schema_context

from declarations.pdf.render import header_lines
from exchanges.services import message_post
from forms_cms.formats import MONTHS_ABBR, NNBSP, month_abbr
from operations import hotline
from operations.models import HotlineContact
from operations.services_activity import activity_report_produce
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.workflow.test_lifecycle import dossier, gestionnaire  # noqa: F401
from tests.workflow.test_workspace import transmitted  # noqa: F401
from workflow.models import Campaign

GROUPED_YEAR = re.compile(r"2[ \u00a0\u202f]0[12]\d")


def render(text: str, **context) -> str:
    return Template("{% load harmonia_format %}" + text).render(Context(context))


def in_templates(pattern: str) -> list[str]:
    """« path: text » for every match of ``pattern`` in the project's templates."""
    from django.conf import settings

    found = re.compile(pattern)
    return [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group()}"
        for root in settings.TEMPLATES[0]["DIRS"]
        for path in Path(root).rglob("*.*")
        for match in found.finditer(path.read_text(encoding="utf-8"))
    ]


def test_year_filter_never_groups_while_other_integers_are():
    # one thousands separator: Django's integers take the grid's (harmonia.french.NNBSP)
    assert render("{{ y|year }} · {{ n }}", y=2024, n=1234) == f"2024 · 1{NNBSP}234"
    assert render("{{ x }}", x=1234567.5) == f"1{NNBSP}234{NNBSP}567,5"
    assert render("{{ y|year }}", y=None) == ""


def test_counts_take_the_singular_below_two_as_french_does():
    assert render('{{ n|counted:"contrôle satisfait,contrôles satisfaits" }}', n=0) == (
        "0 contrôle satisfait"
    )
    assert render('{{ n|counted:"erreur,erreurs" }}', n=1) == "1 erreur"
    assert render('{{ n|counted:"erreur,erreurs" }}', n=2) == "2 erreurs"
    assert render('{{ items|counted:"feuille,feuilles" }}', items=["a", "b", "c"]) == "3 feuilles"
    assert render('{{ n|counted:"organisme,organismes" }}', n=1234) == f"1{NNBSP}234 organismes"
    # no template says « (s) » any more
    assert in_templates(r"\w\(s\)") == []


def test_french_month_abbreviations():
    assert MONTHS_ABBR == (
        "janv.", "févr.", "mars", "avr.", "mai", "juin",
        "juil.", "août", "sept.", "oct.", "nov.", "déc.",
    )  # fmt: skip
    assert month_abbr(4) == "avr." and month_abbr(10) == "oct."
    assert render("{{ d|month_abbr }} {{ m|month_abbr }}", d=dt.date(2024, 2, 1), m=9) == (
        "févr. sept."
    )


def test_hotline_chart_months_are_french_abbreviations():
    svg = hotline.bar_chart_svg([(month_abbr(m), m) for m in (4, 7, 10)])
    assert ">avr.<" in svg and ">juil.<" in svg and ">oct.<" in svg
    assert "avri" not in svg and "octo" not in svg


def test_pdf_header_names_the_exercise_without_separator():
    _, right, _ = header_lines({"exercise": 2024, "document": "ER", "version": 1})
    assert "exercice 2024" in right


@pytest.mark.django_db
def test_operator_pages_show_years_whole_and_default_to_the_campaign_exercise(
    client_for, demo_user
):
    activity_report_produce(platform="oph", exercise=2024, by=None)
    client = client_for("public", demo_user("public", "cglls"))
    page = client.get("/operateur/activite/").content.decode()
    assert "<td>2024</td>" in page
    # the demo campaigns collect exercise 2024, whatever the calendar year is
    assert re.search(r'name="exercise"[^>]*value="2024"', page)
    staff = client_for("public", demo_user("public", "hotline"))
    for url in ("/operateur/activite/", "/operateur/hotline/rapport/"):
        text = staff.get(url).content.decode()
        assert not GROUPED_YEAR.search(text), url
    # an empty exercise means the chosen platform's campaign under way
    response = client.post("/operateur/activite/", {"platform": "esh", "exercise": ""})
    assert response.status_code == 302
    from operations.models import ActivityReport

    assert ActivityReport.objects.filter(platform="esh").get().exercise == 2024


@pytest.mark.django_db
def test_dossier_pages_and_campaign_list_show_years_whole(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
):
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    for url in (
        f"/declarations/dossiers/{dossier.pk}/",  # the breadcrumb names the exercise
        f"/declarations/dossiers/{dossier.pk}/verification/",
        "/campagnes/",
    ):
        page = client.get(url).content.decode()
        assert "2024" in page and not GROUPED_YEAR.search(page), url


def test_no_template_prints_an_exercise_or_a_year_localized():
    """A year printed with ``{{ x.exercise }}`` is grouped (« 2 024 ») by
    USE_THOUSAND_SEPARATOR: every template prints it through ``|unlocalize`` or ``|year``."""
    assert in_templates(r"\{\{\s*[\w.]*(?:exercise|year)\s*\}\}") == []


@pytest.mark.django_db
def test_exchange_overview_says_unread_in_the_singular_and_the_plural(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,  # noqa: F811
    client_for,
):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        message_post(dossier=dossier, author=declarant, body="Une question", files=[])
    client = client_for("dhup", gestionnaire)
    page = client.get("/echanges/").content.decode()
    assert '1<span class="fr-sr-only"> non lu</span>' in page
    assert not GROUPED_YEAR.search(page)
    with schema_context("dhup"):
        message_post(dossier=dossier, author=declarant, body="Une autre", files=[])
    page = client.get("/echanges/").content.decode()
    assert '2<span class="fr-sr-only"> non lus</span>' in page


@pytest.mark.django_db
def test_workspace_exports_local_times_and_typed_dates(
    transmitted,  # noqa: F811
    gestionnaire,  # noqa: F811
    client_for,
):
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        transmitted.refresh_from_db()
    local = timezone.localtime(transmitted.transmitted_at)
    assert local.utcoffset()  # Europe/Paris is never UTC: the test tells them apart
    base = f"/campagnes/{campaign.pk}/dossiers/"
    xlsx = client.get(base + "export.xlsx")
    assert 'filename="dossiers-ER_SOCIAUX-2024.xlsx"' in xlsx["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == transmitted.organism.siren)
    column = [c.value for c in sheet[1]].index("Transmis le")
    sent = row[column]
    assert isinstance(sent.value, dt.datetime) and sent.is_date
    assert sent.number_format == "dd/mm/yyyy hh:mm"
    assert sent.value.replace(second=0, microsecond=0) == local.replace(
        tzinfo=None, second=0, microsecond=0
    )
    text = client.get(base + "export.csv").content.decode("utf-8-sig")
    line = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if r[0] == row[0].value)
    assert line[column] == local.strftime("%d/%m/%Y %H:%M")


def test_hotline_detail_xlsx_has_local_typed_dates():
    received = dt.datetime(2024, 7, 1, 8, 30, tzinfo=dt.UTC)  # 10:30 in Paris (summer time)
    contact = HotlineContact(
        received_at=received, platform="dhup", caller_name="A", organism_name="B", siren=""
    )
    sheet = openpyxl.load_workbook(io.BytesIO(hotline.detail_export([contact], "xlsx"))).active
    cell = sheet["A2"]
    assert cell.is_date and cell.value == dt.datetime(2024, 7, 1, 10, 30)
    text = hotline.detail_export([contact], "csv").decode("utf-8-sig")
    assert "01/07/2024 10:30" in text


def test_qdis_is_spelt_out_wherever_a_platform_names_it():
    from tenants.platforms import PLATFORMS

    texts = [spec.collects for spec in PLATFORMS] + [
        label for spec in PLATFORMS for _, label in spec.document_types
    ]
    named = [text for text in texts if "QDIS" in text]
    assert len(named) == 8
    for text in named:
        assert "questionnaire du dossier individuel de situation" in text.lower(), text


def test_identifiers_in_templates_are_never_grouped():
    """An id, a revision or a counter printed with ``{{ x.pk }}`` is grouped past 999
    (« 1 207 »): a checkbox would post it, the grid's script would read « 1 » for revision
    1 207. Every template prints them through ``|unlocalize``."""
    assert in_templates(r"\{\{\s*[\w.]*\b(?:pk|id|[a-z]+_id|revision|counter0?)\s*\}\}") == []


@pytest.mark.django_db
def test_a_revision_past_999_reaches_the_grid_whole(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
):
    from workflow.models import Dossier

    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        Dossier.objects.filter(pk=dossier.pk).update(revision=1207)
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/")
    assert page.status_code == 200
    assert 'data-revision="1207"' in page.content.decode()
