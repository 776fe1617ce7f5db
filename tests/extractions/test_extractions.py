"""Bulk extractions: what each role may extract (the policy: never a dossier at steps 1–3, a
partner only what was transmitted to it, frozen), the four files (long CSV round trip, wide CSV
and XLSX with their header rows and tables, XSD-valid XML), the job's progress and expiry, and
the journal of every request and download."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from lxml import etree
from wagtail.models import ModelLogEntry

from declarations.services import dossier_values_save
from extractions.layout import DOSSIER_HEADERS, LONG_HEADERS, Layout, csv_text
from extractions.models import Extraction
from extractions.services import extractions_expire, storage
from forms_cms.fields import version_fields
from forms_cms.xmlformat import version_validator
from partners.models import AccessLog
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from tests.helpers import fire, transmit
from workflow.models import Campaign, Dossier

pytestmark = pytest.mark.django_db

A_VALUE, A_LATER, B_SECRET = "1234,5", "5555", "987654,32"
B_MARKERS = ("987654.32", "987654,32", "987\u202f654", "987 654")
FORMATS = [f.value for f in Extraction.Format]


@pytest.fixture(autouse=True)
def _extraction_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "extractions": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "extractions"},
        },
    }


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def campaign(platforms):
    with schema_context("dhup"):
        return Campaign.objects.get(exercise=2024)


def save(dossier, user, entries):
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries=entries, acting_user=user)


@pytest.fixture
def dossier_a(version, declarant):  # noqa: F811
    """The declarant's dossier, transmitted (step 4)."""
    dossier = open_dossier(declarant)
    save(dossier, declarant, {"ACT_IMMO": A_VALUE, "PAS_CAPITAL": "10"})
    transmit(dossier, declarant)
    return dossier


@pytest.fixture
def dossier_b(version, outsider):  # noqa: F811
    """Another organism's dossier, still being filled (step 2): its values are its own."""
    dossier = open_dossier(outsider)
    save(dossier, outsider, {"ACT_IMMO": B_SECRET})
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == "2"
    return dossier


def ask(client, campaign, fmt, query="", values="transmitted", **extra):
    data = {"filters": query, "format": fmt, "values": values, **extra}
    return client.post(f"/extractions/campagne/{campaign.pk}/", data)


def made(pk) -> Extraction:
    run_queued_jobs()
    with schema_context("dhup"):
        return Extraction.objects.get(pk=pk)


def last_extraction() -> Extraction:
    with schema_context("dhup"):
        return Extraction.objects.order_by("-pk").first()


def download(client, extraction) -> bytes:
    response = client.get(f"/extractions/{extraction.pk}/fichier/")
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def texts_of(fmt: str, content: bytes) -> str:
    """Every text the file holds, to look for a value that must not be there."""
    if fmt == "wide_xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row
        )
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return "\n".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())


def long_rows(content: bytes) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        (name,) = zf.namelist()
        raw = zf.read(name)
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a BOM, as the workspace export
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    header = next(reader)
    assert header == LONG_HEADERS
    return [dict(zip(header, row, strict=True)) for row in reader]


# --- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_dossier_at_step_2_never_appears(
    fmt, dossier_a, dossier_b, gestionnaire, campaign, client_for
):
    client = client_for("dhup", gestionnaire)
    page = client.get(f"/extractions/campagne/{campaign.pk}/").content.decode()
    assert "1 dossier</strong> sera extrait" in page
    assert "aux étapes 1 à 3" in page  # the hidden one is counted, never shown
    assert not any(m in page for m in B_MARKERS)
    response = ask(client, campaign, fmt)
    assert response.status_code == 302
    extraction = made(last_extraction().pk)
    assert extraction.status == "done", extraction.error
    assert extraction.included == [dossier_a.pk] and extraction.dossier_count == 1
    content = download(client, extraction)
    text = texts_of(fmt, content)
    assert dossier_a.organism.siren in text
    assert dossier_b.organism.siren not in text
    assert not any(m in text for m in B_MARKERS)
    listing = client.get("/extractions/").content.decode()
    assert extraction.filename in listing and not any(m in listing for m in B_MARKERS)


def test_a_dossier_back_at_step_2_after_the_request_is_left_out(
    dossier_a, gestionnaire, campaign, client_for
):
    """The policy is applied again when the file is made."""
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv")
    with schema_context("dhup"):
        Dossier.objects.filter(pk=dossier_a.pk).update(step="2")
    extraction = made(last_extraction().pk)
    assert extraction.status == "failed" and "étapes 1 à 3" in extraction.error
    assert not extraction.file
    assert client.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404


def test_only_step_1_to_3_dossiers_is_refused_with_a_message(
    dossier_b, gestionnaire, campaign, client_for
):
    client = client_for("dhup", gestionnaire)
    response = ask(client, campaign, "long_csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aucun dossier de cette sélection ne peut être extrait" in page
    assert "0 dossier</strong>" in page
    with schema_context("dhup"):
        assert not Extraction.objects.exists()
    # the page offers no request it would refuse
    page = client.get(f"/extractions/campagne/{campaign.pk}/").content.decode()
    assert 'data-testid="nothing"' in page and "Demander l'extraction" not in page


def test_the_selection_scope_follows_the_workspace_filters_and_ticks(
    dossier_a,
    dossier_b,
    outsider,
    gestionnaire,
    campaign,
    client_for,  # noqa: F811
):
    transmit(dossier_b, outsider)
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        siren_a, siren_b = dossier_a.organism.siren, dossier_b.organism.siren
    # the filter on organism A: B is readable but not asked for
    ask(client, campaign, "long_csv", query=f"q={siren_a}")
    extraction = made(last_extraction().pk)
    assert "SIREN, nom ou texte des annotations : " + siren_a in extraction.scope_label
    sirens = {row["SIREN"] for row in long_rows(download(client, extraction))}
    assert sirens == {siren_a}
    # the workspace's ticked dossiers (its filters ride along in « next »)
    page = client.post(
        f"/extractions/campagne/{campaign.pk}/",
        {"dossier": [dossier_b.pk], "next": f"/campagnes/{campaign.pk}/dossiers/?steps=4"},
    ).content.decode()
    assert "1 dossier</strong> sera extrait" in page and "1 dossier(s) coché(s)" in page
    ask(client, campaign, "long_csv", query="steps=4", dossier=[dossier_b.pk])
    extraction = made(last_extraction().pk)
    sirens = {row["SIREN"] for row in long_rows(download(client, extraction))}
    assert sirens == {siren_b}


def test_roles_other_platform_and_anonymous(
    dossier_a, gestionnaire, campaign, client_for, demo_user
):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_csv")
    extraction = made(last_extraction().pk)
    url = f"/extractions/{extraction.pk}/fichier/"
    request_url = f"/extractions/campagne/{campaign.pk}/"
    for username in ("organisme", "editeur"):
        other = client_for("dhup", demo_user("dhup", username))
        assert other.get(url).status_code == 403
        assert other.get(request_url).status_code == 403
        assert other.get("/extractions/").status_code == 403
    # another platform's gestionnaire: no such extraction there
    assert client_for("oph", demo_user("oph", "gestionnaire")).get(url).status_code == 404
    # a partner: not its extraction (404, and its refused read is logged)
    cdc = demo_user("dhup", "partenaire-cdc")
    assert client_for("dhup", cdc).get(url).status_code == 404
    assert client_for("dhup", cdc).get(request_url).status_code == 403
    with schema_context("dhup"):
        refused = AccessLog.objects.get(what="extraction")
        assert (refused.user_id, refused.granted) == (cdc.pk, False)
    for anonymous_url in (url, request_url, "/extractions/", "/extractions/partenaire/"):
        response = client_for("dhup").get(anonymous_url)
        assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_another_gestionnaire_does_not_download_it(
    dossier_a, gestionnaire, campaign, client_for, demo_user
):
    from accounts.models import User

    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv")
    extraction = made(last_extraction().pk)
    with schema_context("dhup"):
        colleague = User.objects.create_user(
            username="gestionnaire-bis", role="gestionnaire", password="x-Unused-1234"
        )
    other = client_for("dhup", colleague)
    assert other.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404
    assert extraction.filename not in other.get("/extractions/").content.decode()


# --- values as transmitted or current ----------------------------------------------------------


def test_transmitted_or_current_values(dossier_a, declarant, gestionnaire, campaign, client_for):  # noqa: F811
    with schema_context("dhup"):
        live = Dossier.objects.get(pk=dossier_a.pk)
        # the live values moved since the transmission (e.g. a form version migration)
        Dossier.objects.filter(pk=live.pk).update(values={**live.values, "ACT_IMMO": 4321.0})
    client = client_for("dhup", gestionnaire)

    def act_immo(values):
        ask(client, campaign, "long_csv", values=values)
        rows = long_rows(download(client, made(last_extraction().pk)))
        return {r["Valeur"] for r in rows if r["Champ"] == "ACT_IMMO"}

    assert act_immo("transmitted") == {"1234.50"}
    assert act_immo("current") == {"4321.00"}
    # handed back (4R): the organism's work in progress is never read, even « current »
    fire(dossier_a, "hand_back", gestionnaire, comment="À revoir")
    save(dossier_a, declarant, {"ACT_IMMO": A_LATER})
    assert act_immo("current") == {"1234.50"}


# --- the files -------------------------------------------------------------------------------


def test_the_long_csv_round_trips_the_values(dossier_a, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv", values="current")
    rows = long_rows(download(client, made(last_extraction().pk)))
    with schema_context("dhup"):
        dossier = Dossier.objects.select_related("form_version", "organism").get(pk=dossier_a.pk)
        fields = version_fields(dossier.form_version)
    expected = {}
    for name, info in fields.items():
        value = (dossier.computed if info.computed else dossier.values).get(name)
        if csv_text(info, value):
            expected[name] = value
    assert {r["Champ"] for r in rows} == set(expected)
    for row in rows:
        info = fields[row["Champ"]]
        assert row["SIREN"] == dossier.organism.siren
        assert row["Raison sociale"] == dossier.organism.name
        assert row["Étape"] == "4 — Fiabilisation"
        assert (row["Libellé"], row["Feuille"], row["Ligne"]) == (info.label, info.sheet, "")
        value = expected[row["Champ"]]
        if info.data_type in ("amount", "integer", "percentage"):
            assert float(row["Valeur"]) == pytest.approx(value, abs=0.005)
        else:
            assert row["Valeur"] == str(value)
    assert any(r["Champ"] == "ACT_IMMO" and r["Valeur"] == "1234.50" for r in rows)


def test_the_wide_xlsx_opens_with_its_header_rows(dossier_a, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_xlsx")
    content = download(client, made(last_extraction().pk))
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Dossiers"]
    with schema_context("dhup"):
        layout = Layout.of([dossier_a.form_version])
    names, labels, sheets, first = (
        [c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=4)
    )
    n = len(DOSSIER_HEADERS)
    assert names[:n] == DOSSIER_HEADERS
    assert names[n:] == [f.name for f in layout.fields]
    assert labels[n:] == [f.label or f.name for f in layout.fields]
    assert sheets[n:] == [f.sheet for f in layout.fields]
    assert first[0] == dossier_a.organism.siren
    assert first[names.index("ACT_IMMO")] == 1234.5  # a typed number
    assert sheet.max_row == 4  # one dossier


def test_wide_csv_has_three_header_lines(dossier_a, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_csv")
    extraction = made(last_extraction().pk)
    with zipfile.ZipFile(io.BytesIO(download(client, extraction))) as zf:
        (name,) = zf.namelist()
        lines = list(csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == 4
    assert lines[0][: len(DOSSIER_HEADERS)] == DOSSIER_HEADERS
    column = lines[0].index("ACT_IMMO")
    assert (lines[1][column], lines[3][column]) == ("Immobilisations — Brut", "1234.50")


def test_every_xml_is_valid_against_the_versions_xsd(dossier_a, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "xml_zip")
    content = download(client, made(last_extraction().pk))
    with schema_context("dhup"):
        validator = version_validator(dossier_a.form_version)
        stem = Dossier.objects.get(pk=dossier_a.pk).document_stem
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        assert zf.namelist() == [f"{stem}.xml"]
        document = etree.fromstring(zf.read(f"{stem}.xml"))
    assert validator.validate(document), validator.error_log
    assert document.get("siren") == dossier_a.organism.siren


def test_text_that_looks_like_a_formula_is_defused(db):
    from forms_cms.fields import FieldInfo

    text = FieldInfo("T", "S", 1, 1, False, "text", "", (), "T", False)
    amount = FieldInfo("A", "S", 1, 1, False, "amount", "", (), "A", False)
    assert csv_text(text, "=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_text(text, "Alpha; « beta »") == "Alpha; « beta »"
    assert csv_text(amount, -12.5) == "-12.50"
    assert csv_text(amount, {"error": "#DIV/0!"}) == "#DIV/0!"


# --- the job: progress, expiry; the journal --------------------------------------------------


def test_progress_then_expiry(dossier_a, gestionnaire, campaign, client_for, monkeypatch):
    import extractions.services as services

    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv")
    extraction = last_extraction()
    assert extraction.status == "pending" and extraction.progress == 0
    page = client.get("/extractions/").content.decode()
    assert 'http-equiv="refresh"' in page and "En attente" in page.replace(
        "en attente", "En attente"
    )
    seen = []
    real_write = services.WRITERS["long_csv"][0]

    def spying(entries, layout, path, stem, progress):
        def spied(done):
            progress(done)
            seen.append(Extraction.objects.get(pk=extraction.pk).status)

        real_write(entries, layout, path, stem, spied)

    monkeypatch.setitem(services.WRITERS, "long_csv", (spying, ".zip"))
    extraction = made(extraction.pk)
    assert seen == ["running"]
    assert extraction.progress == 100 and extraction.status == "done"
    assert extraction.expires_at - extraction.finished_at == dt.timedelta(days=7)
    assert "supprimé le" in client.get("/extractions/").content.decode()
    with schema_context("dhup"):
        assert storage().exists(extraction.file)
        assert extractions_expire(now=extraction.expires_at - dt.timedelta(seconds=1)) == 0
        assert extractions_expire(now=extraction.expires_at + dt.timedelta(seconds=1)) == 1
        assert not storage().exists(extraction.file)
        extraction.refresh_from_db()
        assert (extraction.status, extraction.file) == ("expired", "")
    assert client.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404
    assert "Expirée" in client.get("/extractions/").content.decode()


def test_a_file_past_its_date_is_not_served_before_the_cleanup(
    dossier_a, gestionnaire, campaign, client_for
):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv")
    extraction = made(last_extraction().pk)
    with schema_context("dhup"):
        Extraction.objects.filter(pk=extraction.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert client.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404


def test_the_periodic_cleanup_runs_on_every_platform(dossier_a, gestionnaire, campaign, client_for):
    from procrastinate.contrib.django import app

    from extractions.tasks import EXPIRE_CRON, EXPIRE_TASK, extractions_expire_everywhere

    periodic = app.periodic_registry.periodic_tasks[(EXPIRE_TASK, "")]
    assert periodic.cron == EXPIRE_CRON == "23 * * * *"  # every hour
    assert app.tasks["extractions.build"] is not None

    ask(client_for("dhup", gestionnaire), campaign, "long_csv")
    extraction = made(last_extraction().pk)
    with schema_context("dhup"):
        Extraction.objects.filter(pk=extraction.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert extractions_expire_everywhere()["dhup"] == 1


def test_requests_and_downloads_are_journalled(dossier_a, gestionnaire, campaign, client_for):
    with schema_context("dhup"):
        start = ModelLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_xlsx", query="steps=4")
    extraction = made(last_extraction().pk)
    download(client, extraction)
    download(client, extraction)
    with schema_context("dhup"):
        entries = list(
            ModelLogEntry.objects.filter(
                id__gt=start, action__startswith="harmonia.extraction"
            ).order_by("id")
        )
    assert [e.action for e in entries] == [
        "harmonia.extraction_requested",
        "harmonia.extraction_downloaded",
        "harmonia.extraction_downloaded",
    ]
    assert all(e.user_id == gestionnaire.pk and e.object_id == str(extraction.pk) for e in entries)
    assert entries[0].data["format"] == "wide_xlsx"
    assert "Étapes" in entries[0].data["sélection"]
    assert entries[1].data["dossiers extraits"] == 1


def test_the_fast_cells_write_what_csv_text_says(db):
    """The writers' per-type shortcuts (csv_cell) give exactly csv_text, CSV-quoted."""
    import random

    from extractions.layout import csv_cell, quoted
    from forms_cms.fields import FieldInfo

    rng = random.Random(7)
    samples = [
        None, "", 0, 0.0, -0.0, 1, -12.5, 2.675, 0.125, 1e12, 123456789.987, float("nan"),
        45000.0, 45000, True, False, {"error": "#DIV/0!"}, "texte", "=SUM(A1)", "-3",
        'a;b "c"', "ligne\nsuivante", "@x", *(rng.uniform(-1e7, 1e7) for _ in range(200)),
    ]  # fmt: skip
    for data_type in ("amount", "integer", "percentage", "date", "text", "choice"):
        info = FieldInfo("F", "S", 1, 1, False, data_type, "", ("texte",), "F", False)
        cell = csv_cell(info)
        for value in samples:
            assert cell(value) == quoted(csv_text(info, value)), (data_type, value)


def test_the_workspace_and_the_partners_list_lead_to_it(
    dossier_a, gestionnaire, campaign, client_for, demo_user
):
    page = (
        client_for("dhup", gestionnaire)
        .get(f"/campagnes/{campaign.pk}/dossiers/?steps=4")
        .content.decode()
    )
    assert f'href="/extractions/campagne/{campaign.pk}/?' in page and "steps=4" in page
    assert f'formaction="/extractions/campagne/{campaign.pk}/"' in page
    listing = client_for("dhup", demo_user("dhup", "partenaire-cdc")).get("/partenaires/")
    assert 'href="/extractions/partenaire/"' in listing.content.decode()


def test_a_form_wider_than_a_sheet_is_refused_with_a_message(
    dossier_a, gestionnaire, campaign, client_for, monkeypatch
):
    import extractions.writers as writers

    monkeypatch.setattr(writers, "XLSX_MAX_COLUMNS", 6)  # the form has more than one field
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_xlsx")
    extraction = made(last_extraction().pk)
    assert extraction.status == "failed" and not extraction.file
    assert "une feuille Excel en admet 6 colonnes au plus" in extraction.error
    assert "Choisissez le CSV" in client.get("/extractions/").content.decode()
