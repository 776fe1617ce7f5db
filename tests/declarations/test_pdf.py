"""PDF of a dossier: made by the queue, French formats and header, who may ask and download."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace

import openpyxl
import pypdf
import pytest
from django.db import connection
from django_tenants.utils import schema_context
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName

from declarations.pdf import render
from declarations.pdf.render import render_pdf, sheet_html
from declarations.services import dossier_values_save
from tests.conftest import run_queued_jobs
from tests.helpers import transmit
from workflow.models import DossierExport

from ..forms_cms.test_versions import upload
from .test_online_form import declarant, open_dossier, outsider  # noqa: F401

pytestmark = pytest.mark.django_db


def pdf_workbook() -> bytes:
    """Two visible sheets with formats, a merged title, a computed cell; one hidden sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bilan"
    ws["A1"] = "Bilan simplifié de l'exercice"
    ws["A1"].font = Font(bold=True)
    ws.merge_cells("A1:C1")
    ws["B2"] = "Montant"
    ws["B2"].fill = PatternFill("solid", fgColor="D9E1F2")
    ws["A3"], ws["B3"] = "Capital social", 0
    ws["B3"].number_format = "#,##0.00"
    ws["A4"], ws["B4"] = "Taux de vacance", 0
    ws["B4"].number_format = "0.00%"
    ws["A5"], ws["B5"] = "Date de clôture", None
    ws["B5"].number_format = "dd/mm/yyyy"
    ws["A6"], ws["B6"] = "Double du capital", "=B3*2"
    ws["B6"].number_format = "#,##0.00"
    ws["A7"], ws["B7"] = "Rapport", "=B3/B8"
    ws["A8"], ws["B8"] = "Diviseur", 0
    ws.column_dimensions["A"].width = 40
    notes = wb.create_sheet("Notes")
    notes["A1"], notes["B1"] = "Observations", None
    notes["B1"].number_format = "@"
    notes.column_dimensions["A"].width = notes.column_dimensions["B"].width = 30
    hidden = wb.create_sheet("Listes")
    hidden["A1"] = "Feuille technique cachée"
    hidden.sheet_state = "hidden"
    names = {
        "CAPITAL": "Bilan!$B$3",
        "TAUX_VACANCE": "Bilan!$B$4",
        "DATE_CLOTURE": "Bilan!$B$5",
        "CAPITAL_DOUBLE": "Bilan!$B$6",
        "RAPPORT": "Bilan!$B$7",
        "DIVISEUR": "Bilan!$B$8",
        "OBSERVATIONS": "Notes!$B$1",
    }
    for name, ref in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def version(demo_user):
    return upload("dhup", pdf_workbook(), user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={
                "CAPITAL": "1 000,50",
                "TAUX_VACANCE": "12,5",
                "DATE_CLOTURE": "31/12/2024",
                "OBSERVATIONS": "Exercice <b>sans</b> réserve",
            },
            acting_user=declarant,
        )
        dossier.refresh_from_db()
    return dossier


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\u202f\u00a0]", " ", text)


def pdf_pages(content: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(content)).pages)


def test_the_sheet_page_shows_the_visible_sheets_only(dossier, declarant, client_for):  # noqa: F811
    """The tabs come from the version's sheet list kept by the process (with each sheet's
    hidden flag): « Listes », hidden in the workbook, is neither a tab nor shown by its
    number."""
    client = client_for("dhup", declarant)
    base = f"/declarations/dossiers/{dossier.pk}/feuilles"
    page = client.get(f"{base}/1/").content.decode()
    assert f'href="{base}/0/"' in page and f'href="{base}/1/"' in page
    assert "Listes" not in page and f'href="{base}/2/"' not in page
    assert 'aria-current="page" class="active">Notes' in page
    hidden = client.get(f"{base}/2/").content.decode()  # the first visible sheet instead
    assert 'aria-current="page" class="active">Bilan' in hidden
    assert "Feuille technique cachée" not in hidden


def test_pdf_is_made_through_the_queue_with_header_and_french_formats(
    dossier,
    declarant,  # noqa: F811
    client_for,
):
    client = client_for("dhup", declarant)
    base = f"/declarations/dossiers/{dossier.pk}/pdf/"
    response = client.post(base)
    assert response.status_code == 302
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier=dossier)
    status_url = f"{base}{export.pk}/"
    assert response["Location"] == status_url
    # before the worker runs: pending, no download yet
    page = client.get(status_url).content.decode()
    assert "En attente" in page and "pdf_status.js" in page  # follows the job
    state = client.get(f"{status_url}etat/").json()
    assert state == {
        "status": "pending",
        "label": "en attente",
        "progress": 0,
        "finished": False,
        "error": "",
        "notice": "",
        "download_url": None,
    }
    assert client.get(f"{status_url}telecharger/").status_code == 404

    assert run_queued_jobs() == 1

    state = client.get(f"{status_url}etat/").json()
    assert state["status"] == "done" and state["progress"] == 100 and state["finished"]
    assert state["download_url"] == f"{status_url}telecharger/"
    page = client.get(status_url).content.decode()
    assert "Télécharger le PDF" in page and "pdf_status.js" not in page
    download = client.get(state["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    organism = declarant.membership.organism
    filename = f"ER_SOCIAUX-2024-{organism.siren}.pdf"
    assert download["Content-Disposition"] == f'attachment; filename="{filename}"'
    content = download.content
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    # the header, on every page
    assert text.count(f"{organism.name} — SIREN {organism.siren}") == pdf_pages(content) == 2
    assert "exercice 2024" in text
    assert "version 1 du formulaire" in text
    assert "étape : 2 — En cours de saisie" in text
    assert re.search(r"Document généré le \d\d/\d\d/\d{4} à \d\d:\d\d", text)
    assert "page 1 / 2" in text and "page 2 / 2" in text
    # sheets, labels and values in French formats; the hidden sheet is left out
    for expected in (
        "Bilan",
        "Bilan simplifié de l'exercice",
        "Capital social",
        "1 000,50",
        "12,50 %",
        "31/12/2024",
        "2 001,00",  # computed
        "#DIV/0!",  # computed error, shown as Excel shows it
        "Notes",
        "Exercice <b>sans</b> réserve",  # text, escaped rather than interpreted
    ):
        assert expected in text, expected
    assert "Feuille technique cachée" not in text
    with schema_context("dhup"):
        export.refresh_from_db()
        assert export.requested_by == declarant
        assert export.finished_at is not None and export.filename == filename


def test_gestionnaire_may_make_the_pdf_once_transmitted(dossier, declarant, client_for, demo_user):  # noqa: F811
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    refused = client.post(f"/declarations/dossiers/{dossier.pk}/pdf/")
    assert refused.status_code == 403  # step 2: the organism's own work
    with schema_context("dhup"):
        assert not DossierExport.objects.filter(dossier=dossier).exists()
    transmit(dossier, declarant)
    sheet = client.get(f"/declarations/dossiers/{dossier.pk}/").content.decode()
    assert "Télécharger en PDF" in sheet
    response = client.post(f"/declarations/dossiers/{dossier.pk}/pdf/")
    assert response.status_code == 302
    run_queued_jobs()
    download = client.get(response["Location"] + "telecharger/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")


def test_others_cannot_ask_follow_or_download(
    dossier,
    declarant,  # noqa: F811
    outsider,  # noqa: F811
    client_for,
    demo_user,
):
    client_for("dhup", declarant).post(f"/declarations/dossiers/{dossier.pk}/pdf/")
    run_queued_jobs()
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier=dossier)
    base = f"/declarations/dossiers/{dossier.pk}/pdf/"
    urls = [f"{base}{export.pk}/", f"{base}{export.pk}/etat/", f"{base}{export.pk}/telecharger/"]
    cases = [
        (client_for("dhup", outsider), 404),  # another organism's user
        (client_for("dhup", demo_user("dhup", "partenaire-cdc")), 403),
        (client_for("dhup", demo_user("dhup", "editeur")), 403),
        (client_for("oph", demo_user("oph", "organisme")), 404),  # another platform
        (client_for("oph", demo_user("oph", "gestionnaire")), 404),
    ]
    for client, status in cases:
        assert client.post(base).status_code == status
        for url in urls:
            assert client.get(url).status_code == status, url
    with schema_context("dhup"):
        assert DossierExport.objects.filter(dossier=dossier).count() == 1
    # signed-out visitors are sent to the sign-in page
    assert client_for("dhup").get(urls[2]).status_code == 302
    # an export is reached only through its own dossier, and only by POST to ask for one
    owner = client_for("dhup", declarant)
    assert owner.get(base).status_code == 405
    elsewhere = f"/declarations/dossiers/{dossier.pk + 999}/pdf/{export.pk}/"
    assert owner.get(elsewhere).status_code == 404


def test_progress_is_recorded_sheet_by_sheet(dossier, declarant, monkeypatch):  # noqa: F811
    from declarations.pdf import tasks

    seen = []
    real = tasks.dossier_pdf

    def watching(dossier, *, progress=None):
        def spy(done, total):
            progress(done, total)
            seen.append(
                (done, total, DossierExport.objects.values_list("progress", "status").get())
            )

        return real(dossier, progress=spy)

    monkeypatch.setattr(tasks, "dossier_pdf", watching)
    with schema_context("dhup"):
        tasks.dossier_pdf_request(dossier=dossier, acting_user=declarant)
    run_queued_jobs()
    assert seen == [(1, 2, (45, "running")), (2, 2, (90, "running"))]
    with schema_context("dhup"):
        assert DossierExport.objects.get().status == DossierExport.Status.DONE


def test_a_failed_render_records_a_french_message(
    dossier,
    declarant,  # noqa: F811
    client_for,
    monkeypatch,
    caplog,
):
    from declarations.pdf import tasks

    def broken(dossier, *, progress=None):
        progress(1, 2)
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(tasks, "dossier_pdf", broken)
    client = client_for("dhup", declarant)
    response = client.post(f"/declarations/dossiers/{dossier.pk}/pdf/")
    with caplog.at_level("ERROR", logger="declarations.pdf.tasks"):
        run_queued_jobs()
    assert "layout exploded" in caplog.text  # the cause is logged for the operator
    state = client.get(response["Location"] + "etat/").json()
    assert state["status"] == "failed" and state["finished"] and state["label"] == "échec"
    assert state["error"].startswith("La génération du PDF a échoué")
    assert "layout exploded" not in state["error"]
    assert state["download_url"] is None
    page = client.get(response["Location"]).content.decode()
    assert "La génération du PDF a échoué" in page
    assert client.get(response["Location"] + "telecharger/").status_code == 404
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier=dossier)
        assert export.content is None and export.finished_at is not None


def _worker_dies_while_making(export_pk: int, *, attempts: int) -> None:
    """The PDF's job is « doing » on a worker silent for ten minutes (killed mid-job)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO public.procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '10 minutes') RETURNING id"
        )
        dead = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE public.procrastinate_jobs SET status = 'doing', worker_id = %s, "
            "attempts = %s WHERE task_name = 'declarations.dossier_pdf' "
            "AND (args->>'export_id')::int = %s",
            [dead, attempts, export_pk],
        )
    with schema_context("dhup"):
        DossierExport.objects.filter(pk=export_pk).update(
            status=DossierExport.Status.RUNNING, progress=40
        )


def test_a_pdf_whose_worker_died_is_resumed_and_the_page_says_so(
    dossier,
    declarant,  # noqa: F811
    client_for,
):
    from declarations.pdf.tasks import MSG_RESUMED
    from tenants.tasks import retry_stalled_jobs

    client = client_for("dhup", declarant)
    status_url = client.post(f"/declarations/dossiers/{dossier.pk}/pdf/")["Location"]
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier=dossier)
    _worker_dies_while_making(export.pk, attempts=0)

    assert len(retry_stalled_jobs(timestamp=0)["retried"]) == 1
    state = client.get(f"{status_url}etat/").json()
    assert (state["status"], state["notice"], state["error"]) == ("running", MSG_RESUMED, "")
    assert MSG_RESUMED.replace("'", "&#x27;") in client.get(status_url).content.decode()

    assert run_queued_jobs() == 1  # another worker makes it
    state = client.get(f"{status_url}etat/").json()
    assert state["status"] == "done" and state["download_url"]
    assert state["notice"] == MSG_RESUMED  # the page still tells what happened
    assert client.get(state["download_url"]).content.startswith(b"%PDF")


def test_a_pdf_whose_workers_died_three_times_is_abandoned_and_the_page_says_so(
    dossier,
    declarant,  # noqa: F811
    client_for,
):
    from declarations.pdf.tasks import MSG_ABANDONED
    from tenants.tasks import retry_stalled_jobs

    client = client_for("dhup", declarant)
    status_url = client.post(f"/declarations/dossiers/{dossier.pk}/pdf/")["Location"]
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier=dossier)
    _worker_dies_while_making(export.pk, attempts=2)

    assert len(retry_stalled_jobs(timestamp=0)["failed"]) == 1
    state = client.get(f"{status_url}etat/").json()
    assert (state["status"], state["label"], state["finished"]) == ("failed", "échec", True)
    assert (state["error"], state["notice"], state["download_url"]) == (MSG_ABANDONED, "", None)
    page = client.get(status_url).content.decode()
    assert "elle est abandonnée. Demandez un nouveau PDF" in page
    assert "fetch(" not in page  # finished: the page stops polling
    assert run_queued_jobs() == 0


# --- the renderer on plain data ------------------------------------------------------------


def info(data_type="amount", number_format="#,##0.00", computed=False):
    return SimpleNamespace(computed=computed, data_type=data_type, number_format=number_format)


def test_sheet_table_merges_spans_fills_and_trims_empty_edges():
    layout = {
        "name": "Feuille",
        "max_row": 9,
        "max_col": 8,
        "columns": [10, 0, 20, 18, 18, 18, 18, 18],  # column B hidden
        "rows": [[3, 0]],  # row 3 hidden
        "merged": [[1, 1, 1, 4]],
        "cells": [
            {"r": 1, "c": 1, "kind": "label", "text": "Titre", "bold": True},
            {"r": 2, "c": 1, "kind": "label", "text": "Sous-titre qui déborde"},
            {"r": 3, "c": 1, "kind": "label", "text": "Ligne cachée"},
            {"r": 4, "c": 1, "kind": "label", "text": "A & B", "fill": "#D9E1F2"},
            {"r": 4, "c": 3, "kind": "input", "name": "X", "fill": "#FFF9E5"},
            {"r": 4, "c": 4, "kind": "computed", "name": "Y"},
            {"r": 4, "c": 5, "kind": "formula"},
            {"r": 9, "c": 8, "kind": "label", "fill": "#FF0000"},  # fill only: trimmed
        ],
    }
    fields = {"X": info(), "Y": info("percentage", "0.0%", computed=True)}
    html, scale = sheet_html(layout, fields, {"X": -1234.5}, {"Y": 0.125})
    assert scale == 1.0
    assert html.count("<col ") == 3  # A, C, D: B hidden, E (a formula cell) and after trimmed
    assert html.count("<tr") == 3  # rows 1, 2, 4
    assert '<td class="x" colspan="3">Titre</td>' in html
    assert '<td colspan="3">Sous-titre qui déborde</td>' in html  # runs over the empty cells
    assert "Ligne cachée" not in html
    assert ">A &amp; B</td>" in html
    assert "\u22121\u202f234,50</td>" in html
    assert "12,5\u00a0%</td>" in html
    assert html.count("background:") == 2  # one rule per fill colour used


def test_wide_sheets_are_scaled_to_the_page():
    layout = {
        "name": "Large",
        "columns": [60] * 10,
        "cells": [{"r": 1, "c": c, "kind": "label", "text": f"Col {c}"} for c in range(1, 11)],
    }
    html, scale = sheet_html(layout, {}, {}, {})
    assert scale < 0.5
    width = float(re.search(r'<table style="width:([\d.]+)px"', html)[1])
    assert width == pytest.approx(render.CONTENT_WIDTH_PX, abs=1)


def test_render_pdf_without_database_and_header_escaping():
    header = {
        "organism": 'Société "Les Toits" </style><b>',
        "siren": "123456789",
        "exercise": 2024,
        "document": "États réglementaires",
        "version": 3,
        "step": "Transmis",
        "generated_at": dt.datetime(2025, 4, 30, 16, 5),
    }
    layouts = [
        {"name": "Vide", "cells": []},
        {"name": "Cachée", "hidden": True, "cells": [{"r": 1, "c": 1, "kind": "label"}]},
    ]
    calls = []
    content = render_pdf(header, layouts, {}, {}, {}, progress=lambda *a: calls.append(a))
    assert calls == [(1, 1)]
    text = pdf_text(content)
    assert 'Société "Les Toits" </style><b> — SIREN 123456789' in text
    assert "version 3 du formulaire — étape : Transmis" in text
    assert "Document généré le 30/04/2025 à 16:05" in text
    assert "page 1 / 1" in text and "Feuille sans contenu." in text


def test_rows_under_an_empty_merged_range_keep_their_columns():
    layout = {
        "name": "Fusion",
        "columns": [10, 10, 10],
        "merged": [[1, 1, 2, 1]],  # A1:A2, nothing written in it
        "cells": [
            {"r": 1, "c": 3, "kind": "label", "text": "Haut"},
            {"r": 2, "c": 2, "kind": "label", "text": "Bas"},
        ],
    }
    html, _ = sheet_html(layout, {}, {}, {})
    assert '<tr><td rowspan="2"></td><td></td><td>Haut</td></tr>' in html
    assert '<tr><td colspan="2">Bas</td></tr>' in html
