"""Form-integration workload (CCTP 3.2.6 a): time per platform and form version against the
30 person-days a year, periods (monthly, twice a month in May–July), the report (page, PDF,
XLSX), its e-mail to the configured project committee, the scheduled sending; refusals."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from operations import workload
from operations.models import FormWorkEntry
from operations.workload import Period

pytestmark = pytest.mark.django_db


def test_periods_are_months_and_halves_in_may_june_july():
    periods = workload.periods_of(2026)
    assert len(periods) == 15
    assert [p.code for p in periods[3:8]] == [
        "2026-04", "2026-05-1", "2026-05-2", "2026-06-1", "2026-06-2",
    ]  # fmt: skip
    assert (Period(2026, 5, 1).start, Period(2026, 5, 1).end) == (
        date(2026, 5, 1),
        date(2026, 5, 15),
    )
    assert (Period(2026, 6, 2).start, Period(2026, 6, 2).end) == (
        date(2026, 6, 16),
        date(2026, 6, 30),
    )
    assert Period(2024, 2).end == date(2024, 2, 29)
    assert workload.period_containing(date(2026, 7, 16)) == Period(2026, 7, 2)
    assert workload.period_before(Period(2026, 5, 1)) == Period(2026, 4)
    assert workload.period_before(Period(2026, 8)) == Period(2026, 7, 2)
    assert workload.parse_period("2026-05-2", today=date(2026, 12, 1)) == Period(2026, 5, 2)
    for code, message in [
        ("2026-03-1", workload.MSG_PERIOD),  # March is not halved
        ("2026-05", workload.MSG_PERIOD),  # May is
        ("2026-13", workload.MSG_PERIOD),
        ("mai", workload.MSG_PERIOD),
        ("2027-01", workload.MSG_PERIOD_NOT_STARTED),
    ]:
        with pytest.raises(ValidationError) as error:
            workload.parse_period(code, today=date(2026, 12, 1))
        assert error.value.messages == [message]


def add(by, day, platform, version, days):
    """Record ``days`` as entries of at most 5 person-days each (the largest one entry takes)."""
    left = Decimal(days)
    while left > 0:
        chunk = min(left, Decimal(5))
        workload.form_work_entry_create(
            by=by,
            day=day,
            platform=platform,
            form_version=version,
            person_days=chunk,
            description="Tests de format et de compatibilité",
        )
        left -= chunk


@pytest.fixture
def staff(demo_user):
    return demo_user("public", "hotline")


@pytest.fixture
def entries(staff):
    add(staff, date(2025, 4, 20), "oph", "QDIS OPH 2024 v1", "4")
    add(staff, date(2025, 5, 3), "oph", "QDIS OPH 2024 v2", "10.5")
    add(staff, date(2025, 5, 14), "dhup", "ER Sociaux 2024 v3", "12")
    add(staff, date(2025, 5, 16), "esh", "QDIS ESH 2024 v1", "6")  # second half of May
    add(staff, date(2024, 12, 30), "oph", "QDIS OPH 2023 v4", "3")  # last year


def test_report_per_platform_and_version_against_the_yearly_allowance(entries):
    report = workload.workload_report(Period(2025, 5, 1))
    by_platform = {line.code: (line.period, line.year) for line in report.platforms}
    assert by_platform["oph"] == (Decimal("10.5"), Decimal("14.5"))
    assert by_platform["dhup"] == (Decimal("12"), Decimal("12"))
    assert by_platform["esh"] == (0, 0)  # the 16th is after the period
    assert report.year_total == Decimal("26.5") and report.remaining == Decimal("3.5")
    assert report.overrun == 0
    assert [(v.form_version, v.period, v.year) for v in report.versions] == [
        ("ER Sociaux 2024 v3", 12, 12),
        ("QDIS OPH 2024 v1", 0, 4),
        ("QDIS OPH 2024 v2", Decimal("10.5"), Decimal("10.5")),
    ]
    later = workload.workload_report(Period(2025, 5, 2))
    assert later.year_total == Decimal("32.5") and later.overrun == Decimal("2.5")
    assert later.remaining == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"person_days": Decimal("0")}, "person_days", "supérieure ou égale à 0.1"),
        ({"person_days": Decimal("6")}, "person_days", "inférieure ou égale à 5"),
        ({"day": timezone.localdate() + timedelta(days=1)}, "day", workload.MSG_FUTURE),
        ({"form_version": ""}, "form_version", "Ce champ ne peut pas être vide."),
        ({"platform": "xyz"}, "platform", "n’est pas un choix valide"),
    ],
)
def test_wrong_entries_are_refused_and_nothing_is_stored(staff, overrides, field, message):
    fields = {
        "day": date(2025, 5, 3),
        "platform": "oph",
        "form_version": "QDIS OPH 2024 v2",
        "person_days": Decimal("1"),
        "description": "Tests",
    }
    fields.update(overrides)
    with pytest.raises(ValidationError) as error:
        workload.form_work_entry_create(by=staff, **fields)
    assert message in error.value.message_dict[field][0]
    assert not FormWorkEntry.objects.exists()


def test_the_screen_records_time_typed_the_french_way(client_for, staff):
    client = client_for("public", staff)
    data = {
        "day": "2025-05-03",
        "platform": "coop",
        "form_version": "QDIS COOP 2024 v1",
        "person_days": "0,5",
        "description": "Contrôle des noms définis",
    }
    assert client.post("/operateur/formulaires/temps/", data).status_code == 302
    assert FormWorkEntry.objects.get().person_days == Decimal("0.5")
    refused = client.post("/operateur/formulaires/temps/", {**data, "person_days": "9"})
    assert refused.status_code == 400
    assert "inférieure ou égale à 5" in unescape(refused.content.decode())
    assert FormWorkEntry.objects.count() == 1
    entry = FormWorkEntry.objects.get()
    assert client.post(f"/operateur/formulaires/temps/{entry.pk}/supprimer/").status_code == 302
    assert not FormWorkEntry.objects.exists()


def test_report_downloads(client_for, demo_user, entries):
    cglls = client_for("public", demo_user("public", "cglls"))
    url = "/operateur/formulaires/temps/rapport/"
    page = unescape(cglls.get(url, {"periode": "2025-05-1"}).content.decode())
    assert "mai 2025, 1re quinzaine" in page and "QDIS OPH 2024 v2" in page
    assert "Envoyer au comité de projet" not in page  # CGLLS receives it, the staff send it
    pdf = cglls.get(url, {"periode": "2025-05-1", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert 'filename="integration-formulaires-2025-05-1.pdf"' in pdf["Content-Disposition"]
    xlsx = cglls.get(url, {"periode": "2025-05-1", "format": "xlsx"})
    summary = load_workbook(io.BytesIO(xlsx.content))["synthèse"]
    assert summary["B4"].value == Decimal("26.5") or summary["B4"].value == 26.5
    for params, message in [
        ({"periode": "2025-03-1"}, "Période inconnue"),
        ({"periode": "2025-03", "format": "doc"}, "Format inconnu"),
    ]:
        refused = cglls.get(url, params)
        assert refused.status_code == 400 and message in unescape(refused.content.decode())


@override_settings(HARMONIA_PROJECT_COMMITTEE_EMAILS=["comite@cglls.example", "dhup@example.fr"])
def test_the_report_is_mailed_to_the_committee_with_its_files(client_for, staff, entries):
    mail.outbox.clear()
    client = client_for("public", staff)
    response = client.post("/operateur/formulaires/temps/envoi/", {"periode": "2025-05-1"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["comite@cglls.example", "dhup@example.fr"]
    assert "mai 2025, 1re quinzaine" in message.subject
    assert "Consommés depuis le 1er janvier 2025 : 26,50 jours/homme sur un forfait de 30" in (
        message.body
    )
    names = [name for name, _, _ in message.attachments]
    assert names == [
        "integration-formulaires-2025-05-1.pdf",
        "integration-formulaires-2025-05-1.xlsx",
    ]

    mail.outbox.clear()
    page = client.post("/operateur/formulaires/temps/envoi/", {"periode": "2025-03-1"}, follow=True)
    assert "Période inconnue" in unescape(page.content.decode()) and mail.outbox == []


@override_settings(HARMONIA_PROJECT_COMMITTEE_EMAILS=[])
def test_without_a_committee_address_nothing_is_sent(client_for, staff):
    mail.outbox.clear()
    page = client_for("public", staff).post(
        "/operateur/formulaires/temps/envoi/", {"periode": "2025-03"}, follow=True
    )
    assert "Aucune adresse du comité de projet n&#x27;est configurée" in page.content.decode()
    assert mail.outbox == []


@override_settings(HARMONIA_PROJECT_COMMITTEE_EMAILS=["comite@cglls.example"])
@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 5, 16), "2025-05-1"),  # mid-May: the first half
        (date(2025, 6, 1), "2025-05-2"),  # 1 June: the second half of May
        (date(2025, 9, 1), "2025-08"),  # 1 September: August
        (date(2025, 3, 16), None),  # the 16th outside May–July: nothing
    ],
)
def test_the_scheduled_job_sends_the_period_just_ended(today, expected):
    from operations import tasks

    mail.outbox.clear()
    assert tasks.period_to_send(today) == (
        None if expected is None else workload.parse_period(expected, today=today)
    )
    sent = tasks.send_workload_report_of(today)
    assert sent == (0 if expected is None else 1)
    assert len(mail.outbox) == sent
