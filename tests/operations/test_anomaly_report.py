"""Monthly synthesis of anomalies: figures against constructed anomalies, PDF text, XLSX cells,
the download screen and who may use it."""

from __future__ import annotations

import io
from datetime import date, datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from operations import anomaly_report
from operations.models import Anomaly, AnomalyEvent, Release

TZ = timezone.get_current_timezone()
WORDS = " ".join(["mot"] * 25)


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def anomaly(number, severity, status, found_on, *, ack=None, test=None, prod=None, events=()):
    """An anomaly as stored, with its status history at the given times (``(at, status)``)."""
    item = Anomaly.objects.create(
        number=number,
        short_description=f"{number} {WORDS}",
        severity=severity,
        status=status,
        found_on=found_on,
        acknowledged_at=ack,
        fixed_test_on=test,
        fixed_prod_on=prod,
        release=Release.objects.get_or_create(number="2.1.0", defaults={"date": prod})[0]
        if prod
        else None,
        reporter=f"Signalant {number[-3:]}",
        platforms=["oph", "dhup"],
    )
    for when, new_status in events:
        event = AnomalyEvent.objects.create(anomaly=item, new_status=new_status)
        AnomalyEvent.objects.filter(pk=event.pk).update(at=when)  # `at` is auto_now_add
    return item


@pytest.fixture
def constructed(db):
    # --- Open at the end of March 2025
    # 1 h deadline long past: late.
    anomaly(
        "ANO-2025-001",
        "critical",
        "in_progress",
        date(2025, 3, 10),
        ack=at(2025, 3, 10),
        test=date(2025, 3, 12),
    )
    # Within its 7 days on 31 March: not measured yet.
    anomaly("ANO-2025-002", "minor", "acknowledged", date(2025, 3, 28), ack=at(2025, 3, 28))
    # 7 days passed on the 27th, 14 days not yet: missed target.
    anomaly("ANO-2025-003", "minor", "in_progress", date(2025, 3, 15), ack=at(2025, 3, 20))
    # Found last year, still open: listed, late.
    anomaly("ANO-2024-050", "major", "acknowledged", date(2024, 11, 5), ack=at(2024, 11, 5))
    # Fixed after March: open then, late.
    anomaly(
        "ANO-2025-011",
        "major",
        "fixed_prod",
        date(2025, 3, 25),
        ack=at(2025, 3, 25),
        prod=date(2025, 4, 2),
        events=[
            (at(2025, 3, 25, 8), "new"),
            (at(2025, 3, 25), "acknowledged"),
            (at(2025, 4, 2, 16), "fixed_prod"),
        ],
    )
    # --- Resolved last year: excluded
    anomaly(
        "ANO-2024-040",
        "major",
        "fixed_prod",
        date(2024, 10, 1),
        ack=at(2024, 10, 1),
        prod=date(2024, 12, 20),
    )
    anomaly(
        "ANO-2024-041",
        "minor",
        "closed",
        date(2024, 12, 1),
        ack=at(2024, 12, 1),
        events=[(at(2024, 12, 30, 10), "closed")],
    )
    # --- Resolved since 1 January 2025
    # 4 days: within the target.
    anomaly(
        "ANO-2025-007",
        "minor",
        "fixed_prod",
        date(2025, 1, 10),
        ack=at(2025, 1, 10, 10),
        test=date(2025, 1, 12),
        prod=date(2025, 1, 14),
        events=[(at(2025, 1, 14, 15), "fixed_prod")],
    )
    # 11 days: past the target, within 14 days.
    anomaly(
        "ANO-2025-008",
        "minor",
        "fixed_prod",
        date(2025, 2, 1),
        ack=at(2025, 2, 1),
        prod=date(2025, 2, 12),
    )
    # Closed after 19 days: late.
    anomaly(
        "ANO-2025-009",
        "minor",
        "closed",
        date(2025, 2, 1),
        ack=at(2025, 2, 1),
        events=[(at(2025, 2, 20, 10), "closed")],
    )
    # Same day but 2 h 30 later: late.
    anomaly(
        "ANO-2025-010",
        "critical",
        "fixed_prod",
        date(2025, 3, 3),
        ack=at(2025, 3, 3),
        prod=date(2025, 3, 3),
        events=[(at(2025, 3, 3, 11, 30), "fixed_prod")],
    )
    # Never acknowledged: no deadline.
    anomaly(
        "ANO-2025-013", "major", "closed", date(2025, 3, 5), events=[(at(2025, 3, 6, 10), "closed")]
    )
    # --- Found after March: excluded
    anomaly("ANO-2025-012", "minor", "new", date(2025, 4, 2))


def test_synthesis_figures(constructed):
    s = anomaly_report.monthly_synthesis(2025, 3)
    assert s.as_of == at(2025, 4, 1, 0) and s.as_of_date == date(2025, 3, 31)
    assert [r.number for r in s.open] == [
        "ANO-2025-001",
        "ANO-2024-050",
        "ANO-2025-011",
        "ANO-2025-003",
        "ANO-2025-002",
    ]
    assert [r.number for r in s.resolved] == [
        "ANO-2025-007",
        "ANO-2025-008",
        "ANO-2025-009",
        "ANO-2025-010",
        "ANO-2025-013",
    ]
    open_rows = {r.number: r for r in s.open}
    resolved_rows = {r.number: r for r in s.resolved}
    assert {n for n, r in open_rows.items() if r.overdue} == {
        "ANO-2025-001",
        "ANO-2024-050",
        "ANO-2025-011",
    }
    assert {n for n, r in resolved_rows.items() if r.overdue} == {"ANO-2025-009", "ANO-2025-010"}
    assert resolved_rows["ANO-2025-013"].overdue is None  # never acknowledged
    assert resolved_rows["ANO-2025-009"].resolved_on == date(2025, 2, 20)  # from its history
    # Fixed in April: shown as it stood on 31 March (status from the history, no fix date yet).
    later = open_rows["ANO-2025-011"]
    assert later.status_label == "Prise en compte" and later.fixed_prod_on is None
    assert open_rows["ANO-2025-001"].status_label == "En cours de correction"
    assert open_rows["ANO-2025-001"].fixed_test_on == date(2025, 3, 12)

    counts = {c.code: (c.open, c.resolved) for c in s.by_severity}
    assert counts == {"critical": (1, 1), "major": (2, 1), "minor": (2, 3)}
    assert (len(s.open), len(s.resolved), s.total) == (5, 5, 10)
    assert (s.overdue_open, s.late_resolved, s.overdue_count) == (3, 2, 5)

    # Minor rule: 007 within 7 days; 008 and 009 after; 003 open past its 7 days; 002 not yet.
    assert (s.minor.measured, s.minor.within_target) == (4, 1)
    assert s.minor.share_fr == "25,0\u00a0%" and s.minor.target_met is False
    assert s.minor.beyond_deadline == 1 and not s.minor.all_within_deadline


def test_current_month_is_judged_now(constructed):
    s = anomaly_report.monthly_synthesis(2025, 3, now=at(2025, 3, 20, 12))
    assert s.as_of_date == date(2025, 3, 20)
    numbers = {r.number for r in s.open + s.resolved}
    assert "ANO-2025-011" not in numbers and "ANO-2025-002" not in numbers  # found later
    # ANO-2025-003 was acknowledged that morning: its 7 days have not passed.
    assert (s.minor.measured, s.minor.within_target) == (3, 1)
    with pytest.raises(ValueError, match="pas encore commencé"):
        anomaly_report.monthly_synthesis(2025, 4, now=at(2025, 3, 20, 12))


def test_minor_rule_met_and_empty_month(db):
    for n, days in enumerate([1, 2, 3, 7], start=1):  # exactly 7 days is within the target
        anomaly(f"ANO-2025-10{n}", "minor", "fixed_prod", date(2025, 5, 1), ack=at(2025, 5, 1),
                prod=date(2025, 5, 1 + days))  # fmt: skip
    anomaly("ANO-2025-105", "minor", "fixed_prod", date(2025, 5, 1), ack=at(2025, 5, 1),
            prod=date(2025, 5, 13))  # fmt: skip
    s = anomaly_report.monthly_synthesis(2025, 5)
    assert (s.minor.measured, s.minor.within_target, s.minor.share_fr) == (5, 4, "80,0\u00a0%")
    assert s.minor.target_met is True and s.minor.all_within_deadline
    empty = anomaly_report.monthly_synthesis(2023, 2)
    assert empty.total == 0 and empty.minor.share is None and empty.minor.target_met is None


def _pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u00a0", " ").split())


def test_pdf_reads_in_french(constructed):
    text = _pdf_text(anomaly_report.synthesis_pdf(anomaly_report.monthly_synthesis(2025, 3)))
    assert "Synthèse mensuelle des anomalies — mars 2025" in text
    assert "Situation au 31/03/2025" in text
    assert "Anomalies ouvertes en retard 3" in text
    assert "Anomalies résolues hors délai 2" in text
    assert "25,0 % (1 sur 4)" in text and "objectif 80 % : non atteint" in text
    assert "non (1 au-delà de 14 jours)" in text
    assert "Anomalies ouvertes (5)" in text
    assert "Anomalies résolues depuis le 1er janvier 2025 (5)" in text
    for number in ["ANO-2025-001", "ANO-2024-050", "ANO-2025-013"]:
        assert number in text
    assert "ANO-2024-040" not in text and "ANO-2025-012" not in text
    assert "14/01/2025" in text and "2.1.0" in text and "Signalant 007" in text
    assert "Fédération des OPH, Ministère (DHUP)" in text


def test_xlsx_cells(constructed):
    data = anomaly_report.synthesis_xlsx(anomaly_report.monthly_synthesis(2025, 3))
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["synthèse", "ouvertes", "résolues"]
    summary = workbook["synthèse"]
    assert summary["A1"].value == "Synthèse mensuelle des anomalies — mars 2025"
    assert summary["B2"].value == datetime(2025, 3, 31)
    assert [c.value for c in summary[5]] == ["Critique (bloquante)", 1, 1, 2]
    assert [c.value for c in summary[8]] == ["Total", 5, 5, 10]
    figures = {row[0].value: row[1].value for row in summary.iter_rows(min_row=10) if row[0].value}
    assert figures["Anomalies ouvertes en retard"] == 3
    assert figures["Anomalies résolues hors délai"] == 2
    assert figures["Part corrigée en 7 jours au plus"] == 0.25
    assert figures["Objectif"] == 0.8 and figures["Objectif atteint"] == "Non"
    assert figures["Toutes corrigées en 14 jours au plus"] == "Non"

    opened = workbook["ouvertes"]
    assert opened["A1"].value == "N°" and opened["L1"].value == "En retard"
    first = [c.value for c in opened[2]]
    assert first[0] == "ANO-2025-001" and first[2] == "Critique (bloquante)"
    assert first[4] == datetime(2025, 3, 10) and first[5] == datetime(2025, 3, 12)
    assert first[10] == datetime(2025, 3, 10, 10, 0)  # deadline, local time
    assert first[11] == "Oui"
    assert opened.max_row == 6
    resolved = workbook["résolues"]
    row = [c.value for c in resolved[4]]  # ANO-2025-009, closed without a production fix
    assert row[0] == "ANO-2025-009" and row[6] is None
    assert row[11] == datetime(2025, 2, 20) and row[12] == "Oui"


URL = "/operateur/anomalies/synthese/"


def test_cglls_downloads_the_synthesis(constructed, client_for, demo_user):
    cglls = client_for("public", demo_user("public", "cglls"))
    page = cglls.get(URL, {"annee": 2025, "mois": 3})
    assert page.status_code == 200
    html = page.content.decode()
    assert "mars 2025" in html and "ANO-2025-011" in html and "25,0" in html

    pdf = cglls.get(URL, {"annee": 2025, "mois": 3, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert 'filename="synthese-anomalies-2025-03.pdf"' in pdf["Content-Disposition"]
    assert "Anomalies ouvertes (5)" in _pdf_text(pdf.content)

    xlsx = cglls.get(URL, {"annee": 2025, "mois": 3, "format": "xlsx"})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook["synthèse"]["B8"].value == 5

    # Without parameters: the current month's page, not the detail of an anomaly "synthese".
    assert cglls.get(URL).status_code == 200
    staff = client_for("public", demo_user("public", "maintenance"))
    assert staff.get(URL, {"annee": 2025, "mois": 3, "format": "pdf"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"annee": 2025, "mois": 13, "format": "pdf"}, "Le mois doit être un nombre de 1 à 12."),
        ({"annee": "abc", "mois": 3}, "L'année doit être un nombre"),
        ({"annee": 1990, "mois": 3}, "comprise entre 2000 et 2100"),
        ({"annee": 2025, "mois": 3, "format": "doc"}, "Format inconnu"),
        ({"annee": 2100, "mois": 1, "format": "xlsx"}, "pas encore commencé"),
        ({"format": "pdf"}, "Indiquez l"),
    ],
)
def test_invalid_month_gets_a_french_error(params, message, client_for, demo_user):
    response = client_for("public", demo_user("public", "hotline")).get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in unescape(response.content.decode())


def test_nobody_else_gets_the_synthesis(client_for, demo_user):
    anonymous = client_for("public").get(URL, {"annee": 2025, "mois": 3, "format": "pdf"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    for code, username in [("oph", "gestionnaire"), ("oph", "organisme")]:
        client = client_for(code, demo_user(code, username))
        response = client.get(URL, {"annee": 2025, "mois": 3, "format": "pdf"})
        assert response.status_code == 404
