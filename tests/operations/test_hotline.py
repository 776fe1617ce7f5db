"""Hotline log: report figures against constructed data, PDF and XLSX contents, exports, access."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from operations import hotline
from operations.models import HotlineContact

TZ = timezone.get_current_timezone()


def at(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def contact(received_at, subject="other", status="open", platform="oph", caller="Appelant"):
    return HotlineContact.objects.create(
        received_at=received_at,
        channel="phone",
        platform=platform,
        caller_name=caller,
        organism_name="OPH de Test",
        subject=subject,
        description="Question",
        status=status,
        resolution="Réponse donnée" if status == "resolved" else "",
    )


@pytest.fixture
def constructed(db):
    contact(at(2025, 12, 15), caller="Décembre ouvert")  # before the year, still open
    contact(at(2026, 1, 10), status="resolved")
    contact(at(2026, 1, 20), caller="Janvier ouvert", platform="public")
    contact(at(2026, 2, 5), status="resolved")
    march = [
        ("account", "resolved"),
        ("account", "resolved"),
        ("account", "open"),
        ("entry", "resolved"),
        ("entry", "in_progress"),
        ("xml_import", "resolved"),
        ("controls", "resolved"),
        ("other", "open"),
    ]
    for i, (subject, status) in enumerate(march):
        when = at(2026, 3, 31, 23, 30) if i == 7 else at(2026, 3, 2 + i)  # last minute of March
        contact(when, subject=subject, status=status, caller=f"Mars {i}", platform="esh")
    contact(at(2026, 4, 1, 0, 0), caller="Avril ouvert")  # first minute of April: excluded


def test_report_figures(constructed):
    report = hotline.monthly_report(2026, 3)
    assert report.period_count == 8
    assert report.since_start_count == 11
    assert report.resolved_in_period == 5
    shares = {s.code: (s.count, s.share_fr) for s in report.subjects}
    assert shares["account"] == (3, "37,5\u00a0%")
    assert shares["entry"] == (2, "25,0\u00a0%")
    assert shares["xml_import"] == (1, "12,5\u00a0%")
    assert shares["partners"] == (0, "0,0\u00a0%")
    assert sum(s.count for s in report.subjects) == 8
    assert [c.caller_name for c in report.unresolved] == [
        "Décembre ouvert",
        "Janvier ouvert",
        "Mars 2",
        "Mars 4",
        "Mars 7",
    ]
    assert report.per_month == [("janv.", 2), ("févr.", 1), ("mars", 8)]
    empty = hotline.monthly_report(2027, 6)
    assert empty.period_count == 0 and all(s.share == 0 for s in empty.subjects)


def test_since_the_start_of_the_contract_when_configured(constructed, settings):
    settings.HARMONIA_CONTRACT_START = date(2025, 12, 1)
    report = hotline.monthly_report(2026, 3)
    assert report.since_start_count == 12  # December's contact counts: the contract began then
    assert report.since_label == "Contacts depuis le début du marché (01/12/2025)"
    assert report.per_month == [("janv.", 2), ("févr.", 1), ("mars", 8)]  # the chart: the year
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(hotline.report_pdf(report))).pages
    )
    assert "Contacts depuis le début du marché (01/12/2025) 12" in " ".join(
        text.replace("\u00a0", " ").split()
    )
    settings.HARMONIA_CONTRACT_START = date(2026, 3, 10)
    assert hotline.monthly_report(2026, 3).since_start_count == 1  # from 10 March: the 31st


def test_percent_and_chart():
    assert hotline.percent_fr(12.5) == "12,5\u00a0%"
    svg = hotline.bar_chart_svg([("janv", 2), ("févr", 0), ("mars", 8)])
    assert svg.startswith("<svg") and svg.count("<rect") == 3 and ">8</text>" in svg


def test_pdf_holds_the_figures(constructed):
    pdf = hotline.report_pdf(hotline.monthly_report(2026, 3))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.replace("\u00a0", " ").split())
    assert "mars 2026" in text
    assert "Contacts du mois 8" in text
    assert "Contacts depuis le 1er janvier 2026 11" in text
    assert "37,5 %" in text and "12,5 %" in text
    assert "Décembre ouvert" in text and "15/12/2025" in text


def test_xlsx_cells(constructed):
    workbook = load_workbook(io.BytesIO(hotline.report_xlsx(hotline.monthly_report(2026, 3))))
    assert workbook.sheetnames == ["synthèse", "par sujet", "non résolus"]
    summary = workbook["synthèse"]
    assert summary["B2"].value == 8 and summary["B3"].value == 11 and summary["B5"].value == 5
    subjects = workbook["par sujet"]
    assert [subjects["A2"].value, subjects["B2"].value, subjects["C2"].value] == [
        "Compte et connexion",
        3,
        0.375,
    ]
    unresolved = workbook["non résolus"]
    assert unresolved.max_row == 6
    assert unresolved["A2"].value == datetime(2025, 12, 15, 12, 0)
    assert unresolved["C2"].value == "Décembre ouvert"


def test_siren_is_optional_but_checked(db):
    item = HotlineContact(
        received_at=timezone.now(),
        channel="email",
        platform="public",
        caller_name="X",
        subject="other",
        description="Y",
    )
    item.full_clean(exclude=["created_by"])
    item.siren = "123456789"  # Luhn key wrong
    with pytest.raises(ValidationError):
        item.full_clean(exclude=["created_by"])
    item.siren = "552100554"
    item.full_clean(exclude=["created_by"])


def test_staff_create_and_resolve_cglls_reads_only(client_for, demo_user):
    hotline_client = client_for("public", demo_user("public", "hotline"))
    response = hotline_client.post(
        "/operateur/hotline/nouveau/",
        {
            "received_at": "2026-03-02T10:15",
            "channel": "phone",
            "platform": "oph",
            "caller_name": "Mme Durand",
            "organism_name": "OPH Exemple",
            "siren": "552 100 554",
            "subject": "xml_import",
            "description": "Import refusé",
        },
    )
    assert response.status_code == 302
    item = HotlineContact.objects.get(caller_name="Mme Durand")
    assert item.siren == "552100554" and item.status == "open" and item.created_by
    bad = hotline_client.post(
        f"/operateur/hotline/{item.pk}/", {"status": "resolved", "resolution": ""}
    )
    assert bad.status_code == 200  # a resolution is required
    hotline_client.post(
        f"/operateur/hotline/{item.pk}/", {"status": "resolved", "resolution": "Fichier corrigé"}
    )
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_at

    cglls = client_for("public", demo_user("public", "cglls"))
    assert "Mme Durand" in cglls.get("/operateur/hotline/?platform=oph").content.decode()
    assert "Mme Durand" not in cglls.get("/operateur/hotline/?platform=esh").content.decode()
    assert cglls.get("/operateur/hotline/nouveau/").status_code == 403
    assert cglls.post(f"/operateur/hotline/{item.pk}/", {"status": "open"}).status_code == 403
    assert cglls.get("/operateur/hotline/rapport/?mois=2026-03").status_code == 200
    pdf = cglls.get("/operateur/hotline/rapport/?mois=2026-03&format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = cglls.get("/operateur/hotline/rapport/?mois=2026-03&format=xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "synthèse"


def test_detail_export_by_platform(constructed, client_for, demo_user):
    client = client_for("public", demo_user("public", "maintenance"))
    csv_text = client.get("/operateur/hotline/export/?platform=esh&format=csv").content
    lines = csv_text.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Reçu le;Canal;Plateforme")
    assert len(lines) == 9 and all("Mars" in line for line in lines[1:])
    xlsx = client.get("/operateur/hotline/export/?platform=public&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 2 and sheet["D2"].value == "Janvier ouvert"


def test_platform_users_get_nothing(client_for, demo_user):
    for code, username in [("oph", "gestionnaire"), ("oph", "organisme")]:
        client = client_for(code, demo_user(code, username))
        for url in ["/operateur/hotline/", "/operateur/hotline/rapport/?format=pdf"]:
            assert client.get(url).status_code in (403, 404)
    anonymous = client_for("public").get("/operateur/hotline/")
    assert anonymous.status_code == 302


def test_resolution_time_is_set_once_and_cleared_when_reopened(db):
    from operations.services_hotline import hotline_contact_update

    item = contact(at(2026, 3, 2), status="open")
    first = at(2026, 3, 3, 9)
    hotline_contact_update(item, status="resolved", resolution="Lien renvoyé.", now=first)
    item.refresh_from_db()
    assert item.resolved_at == first
    # saved again while resolved: the time it was resolved stays
    hotline_contact_update(
        item, status="resolved", resolution="Lien renvoyé (2).", now=at(2026, 3, 5)
    )
    item.refresh_from_db()
    assert item.resolved_at == first and item.resolution == "Lien renvoyé (2)."
    hotline_contact_update(item, status="in_progress", resolution="", now=at(2026, 3, 6))
    item.refresh_from_db()
    assert item.resolved_at is None and item.status == "in_progress"
