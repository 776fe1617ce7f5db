"""Releases (footer version, e-mails) and maintenance windows (banner timing, notices)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from operations import services
from operations.context_processors import service_state
from operations.models import Anomaly, Correspondent, MaintenanceWindow, Release
from tests.conftest import run_queued_jobs


def test_publishing_a_release_sets_the_footer_and_mails_cglls_and_correspondents(
    client_for, demo_user
):
    Correspondent.objects.create(name="Alice", email="alice@example.org")
    Correspondent.objects.create(name="Ancien", email="ancien@example.org", active=False)
    cglls = demo_user("public", "cglls")
    hotline = client_for("public", demo_user("public", "hotline"))
    hotline.post(
        "/operateur/versions/",
        {"number": "2.4.1", "date": "2026-03-02", "corrections": "ANO-2026-001", "evolutions": ""},
    )
    release = Release.objects.get(number="2.4.1")
    assert not release.published
    assert "version 2.4.1" not in hotline.get("/operateur/").content.decode()

    mail.outbox.clear()
    # CGLLS reads the releases but does not publish them.
    assert (
        client_for("public", cglls).post(f"/operateur/versions/{release.pk}/publier/").status_code
        == 403
    )
    assert hotline.post(f"/operateur/versions/{release.pk}/publier/").status_code == 302
    run_queued_jobs()
    # every active correspondent (the demo's follows dhup only: releases concern all)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["alice@example.org", "correspondant@public.harmonia.test", cglls.email.lower()]
    )
    assert "Version 2.4.1 publiée" in mail.outbox[0].subject
    assert "ANO-2026-001" in mail.outbox[0].body

    assert "version 2.4.1" in hotline.get("/operateur/").content.decode()
    # Every page, platforms included, shows the current version.
    oph = client_for("oph", demo_user("oph", "organisme")).get("/")
    assert "version 2.4.1" in oph.content.decode()
    assert services.release_publish(release) == 0  # publishing twice sends nothing


def test_the_banner_shows_on_affected_platforms_from_seven_days_before_until_the_end(
    client_for, demo_user, platforms
):
    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        platforms=["oph", "dhup"],
        reason="Mise à jour du serveur de base de données",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=4),
        status="approved",
    )
    MaintenanceWindow.objects.create(  # not approved by CGLLS: never announced
        platforms=["oph"],
        reason="Demande en attente",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=1),
    )
    oph = client_for("oph", demo_user("oph", "gestionnaire")).get("/").content.decode()
    assert "Demande en attente" not in oph
    assert "Mise à jour du serveur de base de données" in oph
    assert timezone.localtime(window.starts_at).strftime("%d/%m/%Y à %H:%M") in oph
    esh = client_for("esh", demo_user("esh", "gestionnaire")).get("/").content.decode()
    assert 'data-testid="maintenance-banner"' not in esh
    public = client_for("public", demo_user("public", "hotline")).get("/operateur/")
    assert 'data-testid="maintenance-banner"' not in public.content.decode()

    # Timing: 7 days before the start (included) until the end (excluded).
    start, end = window.starts_at, window.ends_at

    def reasons(code, at):
        return [w.reason for w in service_state(code, at)[1]]

    with schema_context("oph"):  # read from a platform's connection, as a request does
        assert reasons("oph", start - timedelta(days=7)) == [window.reason]
        assert reasons("oph", start - timedelta(days=7, seconds=1)) == []
        assert reasons("oph", end - timedelta(seconds=1)) == [window.reason]
        assert reasons("oph", end) == []
        assert reasons("esh", start) == []


def _window_data(start, **overrides):
    data = {
        "platforms": ["esh"],
        "features": "Import XML",
        "reason": "Montée de version",
        "starts_at": f"{timezone.localtime(start):%Y-%m-%dT%H:%M}",
        "ends_at": f"{timezone.localtime(start + timedelta(hours=3)):%Y-%m-%dT%H:%M}",
    }
    data.update(overrides)
    return data


def test_a_maintenance_is_requested_48_hours_ahead_and_announced_once_cglls_approves(
    client_for, demo_user
):
    Correspondent.objects.create(name="Alice", email="alice@example.org")
    hotline_user, cglls_user = demo_user("public", "hotline"), demo_user("public", "cglls")
    hotline, cglls = client_for("public", hotline_user), client_for("public", cglls_user)
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    mail.outbox.clear()
    assert hotline.post("/operateur/maintenances/", _window_data(start)).status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.status, window.requested_by, window.features) == (
        "requested",
        hotline_user,
        "Import XML",
    )
    run_queued_jobs()
    # only CGLLS is asked; nobody else hears of it before the approval
    assert [m.to[0] for m in mail.outbox] == [cglls_user.email.lower()]
    assert "Demande d'accord" in mail.outbox[0].subject
    assert "Fonctionnalités concernées : Import XML" in mail.outbox[0].body

    # the staff do not approve; CGLLS does
    decide = f"/operateur/maintenances/{window.pk}/decision/"
    assert hotline.post(decide, {"decision": "approve"}).status_code == 403
    mail.outbox.clear()
    assert cglls.post(decide, {"decision": "approve"}).status_code == 302
    window.refresh_from_db()
    assert (window.status, window.decided_by) == ("approved", cglls_user)
    run_queued_jobs()
    recipients = {m.to[0] for m in mail.outbox}
    with schema_context("esh"):
        from accounts.models import User

        esh_users = {
            e.lower()
            for e in User.objects.filter(
                role__in=["organisme", "gestionnaire"], is_active=True
            ).values_list("email", flat=True)
        }
    oph_manager = demo_user("oph", "gestionnaire").email.lower()
    assert esh_users and esh_users | {"alice@example.org"} == recipients
    assert oph_manager not in recipients
    # the demo's correspondent follows dhup only: an esh maintenance is not for them
    assert "correspondant@public.harmonia.test" not in recipients
    start_text = f"{timezone.localtime(start):%d/%m/%Y}"
    assert f"Maintenance programmée le {start_text}" in mail.outbox[0].subject
    assert "Fonctionnalités indisponibles : Import XML" in mail.outbox[0].body
    # decided once only
    page = cglls.post(decide, {"decision": "refuse", "comment": "non"}, follow=True)
    assert "déjà approuvée" in unescape(page.content.decode())
    banner = client_for("esh", demo_user("esh", "gestionnaire")).get("/").content.decode()
    assert "Indisponible pendant cette période : Import XML" in unescape(banner)


@pytest.mark.parametrize(
    ("hours", "anomaly_severity", "field", "message"),
    [
        (47, None, "starts_at", "Une maintenance se demande au moins 48 heures à l'avance"),
        (-1, None, "starts_at", "Le début ne peut pas être passé."),
        (2, "major", "blocking_anomaly", "n'est pas bloquante (gravité : majeure)"),
    ],
)
def test_a_request_breaking_the_rules_is_refused_with_the_reason(
    client_for, demo_user, hours, anomaly_severity, field, message
):
    hotline_user = demo_user("public", "hotline")
    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    start += timedelta(minutes=1)  # the form's minutes: never earlier than asked
    extra = {}
    if anomaly_severity:
        extra["blocking_anomaly"] = _anomaly(hotline_user, anomaly_severity).pk
    mail.outbox.clear()
    response = client_for("public", hotline_user).post(
        "/operateur/maintenances/", _window_data(start, **extra)
    )
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not MaintenanceWindow.objects.exists()
    with pytest.raises(ValidationError) as error:
        services.maintenance_request(
            by=hotline_user,
            platforms=["esh"],
            reason="x",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            blocking_anomaly=Anomaly.objects.first(),
        )
    assert message in error.value.message_dict[field][0]


def _anomaly(by, severity):
    return services.anomaly_create(
        by=by,
        short_description=" ".join(["mot"] * 25),
        severity=severity,
        found_on=timezone.localdate(),
        reporter="M. Dupont",
        platforms=["esh"],
    )


def test_a_blocking_anomaly_allows_a_short_notice_and_cglls_may_refuse(client_for, demo_user):
    hotline_user, cglls_user = demo_user("public", "hotline"), demo_user("public", "cglls")
    anomaly = _anomaly(hotline_user, "critical")
    start = timezone.now() + timedelta(hours=2)
    window = services.maintenance_request(
        by=hotline_user,
        platforms=["esh"],
        reason="Correctif",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocking_anomaly=anomaly,
    )
    assert window.status == "requested"
    with pytest.raises(ValidationError) as error:
        services.maintenance_decide(window, by=cglls_user, approve=False, comment=" ")
    assert error.value.message_dict == {"comment": [services.MSG_REFUSAL_REASON]}
    run_queued_jobs()  # the anomaly's and the request's notices
    mail.outbox.clear()
    services.maintenance_decide(
        window, by=cglls_user, approve=False, comment="Pas pendant la clôture"
    )
    run_queued_jobs()
    assert [m.to[0] for m in mail.outbox] == [hotline_user.email.lower()]
    assert "Motif du refus : Pas pendant la clôture" in mail.outbox[0].body
    window.refresh_from_db()
    assert window.status == "refused"


def test_the_version_tracking_document_lists_each_release_with_what_it_fixes(client_for, demo_user):
    hotline_user = demo_user("public", "hotline")
    hotline = client_for("public", hotline_user)
    refused = hotline.post(
        "/operateur/versions/",
        {"number": "4.3.0", "test_on": "2026-02-10", "date": "2026-02-01", "corrections": ""},
    )
    assert refused.status_code == 400
    assert "ne peut pas suivre la mise en production (01/02/2026)" in unescape(
        refused.content.decode()
    )
    assert not Release.objects.exists()
    hotline.post(
        "/operateur/versions/",
        {"number": "4.3.0", "test_on": "2026-01-20", "date": "2026-02-01", "corrections": "x"},
    )
    release = Release.objects.get()
    anomaly = _anomaly(hotline_user, "minor")
    services.anomaly_update_details(anomaly, by=hotline_user, release=release)
    # corrected later: the production date moves
    edit = f"/operateur/versions/{release.pk}/modifier/"
    assert client_for("public", demo_user("public", "cglls")).get(edit).status_code == 403
    assert (
        hotline.post(
            edit,
            {"number": "4.3.0", "test_on": "2026-01-20", "date": "2026-02-03", "corrections": "x"},
        ).status_code
        == 302
    )
    release.refresh_from_db()
    assert release.date == date(2026, 2, 3)
    # its publication e-mail names what it fixes
    mail.outbox.clear()
    run_queued_jobs()
    mail.outbox.clear()
    services.release_publish(release)
    run_queued_jobs()
    assert f"- {anomaly.number} : {anomaly.short_description}" in mail.outbox[0].body
    assert "livrée sur la plateforme de tests le 20/01/2026" in mail.outbox[0].body

    cglls = client_for("public", demo_user("public", "cglls"))
    page = unescape(cglls.get("/operateur/versions/suivi/").content.decode())
    assert "20/01/2026" in page and "03/02/2026" in page
    assert f"{anomaly.number} — {anomaly.short_description}" in page
    pdf = cglls.get("/operateur/versions/suivi/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = cglls.get("/operateur/versions/suivi/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content))["versions"]
    row = [c.value for c in sheet[2]]
    assert row[0] == "4.3.0" and row[1].date() == date(2026, 1, 20)
    assert row[6].startswith(anomaly.number)
    assert cglls.get("/operateur/versions/suivi/", {"format": "doc"}).status_code == 400
