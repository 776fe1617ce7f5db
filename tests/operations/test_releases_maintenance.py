"""Releases (footer version, e-mails) and maintenance windows (banner timing, notices)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from operations import services
from operations.context_processors import service_state
from operations.models import Correspondent, MaintenanceWindow, Release
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
    )
    oph = client_for("oph", demo_user("oph", "gestionnaire")).get("/").content.decode()
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


def test_a_maintenance_notice_goes_to_correspondents_and_the_platforms_gestionnaires(
    client_for, demo_user
):
    Correspondent.objects.create(name="Alice", email="alice@example.org")
    hotline = client_for("public", demo_user("public", "hotline"))
    mail.outbox.clear()
    response = hotline.post(
        "/operateur/maintenances/",
        {
            "platforms": ["esh"],
            "reason": "Montée de version",
            "starts_at": "2026-12-20T20:00",
            "ends_at": "2026-12-20T23:00",
        },
    )
    assert response.status_code == 302
    run_queued_jobs()
    with schema_context("esh"):
        esh_manager = demo_user("esh", "gestionnaire").email.lower()
    oph_manager = demo_user("oph", "gestionnaire").email.lower()
    recipients = {m.to[0] for m in mail.outbox}
    assert {"alice@example.org", esh_manager} <= recipients
    assert oph_manager not in recipients
    # the demo's correspondent follows dhup only: an esh maintenance is not for them
    assert "correspondant@public.harmonia.test" not in recipients
    assert "Maintenance programmée le 20/12/2026" in mail.outbox[0].subject
    assert "du 20/12/2026 à 20:00 au 20/12/2026 à 23:00" in mail.outbox[0].body

    refused = hotline.post(
        "/operateur/maintenances/",
        {
            "platforms": ["esh"],
            "reason": "x",
            "starts_at": "2026-12-20T20:00",
            "ends_at": "2026-12-20T19:00",
        },
    )
    assert "La fin doit suivre le début." in refused.content.decode()
    assert date(2026, 12, 20) == MaintenanceWindow.objects.get().starts_at.date()
