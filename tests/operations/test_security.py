"""Security supervision in the operator's space: alert rules (thresholds at the boundary, one
e-mail per rule per window, no rule without a recipient), the events screen and its filters,
who may open it, and the monthly summary in the activity report."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from accounts.models import Role, User
from operations import activity
from operations.models import (
    MSG_RULE_NO_RECIPIENT,
    SecurityAlert,
    SecurityAlertRule,
)
from operations.services_security import security_alerts_check, security_rule_save
from tenants.models import SecurityEvent
from tests.conftest import run_queued_jobs

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
NOW = timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0))


def event(at, kind=Kind.LOGIN_FAILED, platform="oph", username="pierre", detail="essai"):
    return SecurityEvent.objects.create(
        occurred_at=at, kind=kind, platform=platform, username=username, detail=detail
    )


def rule(**fields):
    values = {
        "kind": Kind.LOGIN_FAILED,
        "threshold": 5,
        "window_minutes": 10,
        "notify_cglls": True,
        "notify_maintenance": True,
        **fields,
    }
    return security_rule_save(**values)


def staff_emails():
    return sorted(
        User.objects.filter(role__in=[Role.CGLLS, Role.MAINTENANCE], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


# --- rules --------------------------------------------------------------------------------


def test_a_rule_without_a_recipient_is_refused_with_the_reason(public_platform):
    with pytest.raises(ValidationError) as info:
        rule(notify_cglls=False, notify_maintenance=False, emails=[])
    assert info.value.messages == [MSG_RULE_NO_RECIPIENT]
    # ticked roles without any active account: refused too, saying so
    User.objects.filter(role=Role.CGLLS).update(is_active=False)
    with pytest.raises(ValidationError) as info:
        rule(notify_maintenance=False)
    assert info.value.messages[0].startswith("Aucun compte actif CGLLS n'a d'adresse")
    # out of bounds
    with pytest.raises(ValidationError) as info:
        rule(threshold=0, window_minutes=0, emails=["soc@example.org"])
    assert set(info.value.message_dict) == {"threshold", "window_minutes"}
    assert not SecurityAlertRule.objects.exists()
    # an address alone is a recipient
    assert rule(notify_cglls=False, notify_maintenance=False, emails=["soc@example.org"]).pk


def test_the_alert_fires_at_its_threshold_and_not_below(public_platform):
    watched = rule(threshold=5, window_minutes=10)
    # four in the window, one just before it (exactly 10 minutes ago: outside)
    event(NOW - dt.timedelta(minutes=10))
    for minutes in (9, 5, 2, 0):
        event(NOW - dt.timedelta(minutes=minutes))
    event(NOW - dt.timedelta(minutes=1), kind=Kind.LOCKOUT)  # another kind: not counted
    assert security_alerts_check(now=NOW) == []
    watched.refresh_from_db()
    assert watched.last_alert_at is None

    event(NOW - dt.timedelta(seconds=30))  # the fifth
    [alert] = security_alerts_check(now=NOW)
    assert alert.event_count == 5 and alert.recipients == staff_emails()
    watched.refresh_from_db()
    assert watched.last_alert_at == NOW

    assert run_queued_jobs() == 1
    [message] = mail.outbox
    assert sorted(message.to) == staff_emails()
    assert message.subject == (
        "[Harmonia] Alerte de sécurité : 5 × « Échec de connexion » en 10 min"
    )
    assert "entre le 10/03/2026 à 11:50 et le 10/03/2026 à 12:00" in message.body
    assert "Par plateforme :\n- Fédération des OPH : 5\n" in message.body
    assert "pierre" in message.body
    assert "/operateur/securite/?type=login_failed" in message.body


def test_no_alert_storm_one_email_per_rule_per_window(public_platform):
    rule(threshold=3, window_minutes=10)
    for seconds in (50, 40, 30):
        event(NOW - dt.timedelta(seconds=seconds))
    assert len(security_alerts_check(now=NOW)) == 1
    # the burst goes on: every minute of the window, more events, no second e-mail
    for minute in range(1, 10):
        at = NOW + dt.timedelta(minutes=minute)
        for _ in range(5):
            event(at - dt.timedelta(seconds=1))
        assert security_alerts_check(now=at) == []
    # a whole window after the alert, the events since it count again: one more e-mail
    later = NOW + dt.timedelta(minutes=10)
    [second] = security_alerts_check(now=later)
    assert second.event_count == 45  # only events after the first alert
    assert SecurityAlert.objects.count() == 2
    assert run_queued_jobs() == 2 and len(mail.outbox) == 2


def test_a_rule_watches_its_platform_only_and_inactive_rules_never_fire(public_platform):
    rule(threshold=2, platform="dhup")
    rule(threshold=1, active=False)
    event(NOW, platform="oph")
    event(NOW, platform="oph")
    assert security_alerts_check(now=NOW) == []
    event(NOW, platform="dhup")
    event(NOW, platform="dhup")
    [alert] = security_alerts_check(now=NOW)
    assert alert.rule.platform == "dhup" and alert.event_count == 2


def test_the_periodic_job_is_scheduled_every_minute():
    from procrastinate.contrib.django import app

    from operations.tasks import SECURITY_ALERTS_CRON, SECURITY_ALERTS_TASK

    periodic = app.periodic_registry.periodic_tasks[(SECURITY_ALERTS_TASK, "")]
    assert periodic.cron == SECURITY_ALERTS_CRON == "* * * * *"


# --- the screens --------------------------------------------------------------------------

READ_URLS = ["/operateur/securite/", "/operateur/securite/regles/"]
WRITE_URLS = ["/operateur/securite/regles/nouvelle/", "/operateur/securite/regles/{pk}/"]


@pytest.fixture
def secret_event(public_platform):
    return event(timezone.now(), username="victime-secrete", detail="détail-confidentiel")


@pytest.mark.parametrize(
    "code,username,reads,writes",
    [
        ("public", "hotline", 200, 200),
        ("public", "maintenance", 200, 200),
        ("public", "cglls", 200, 403),  # the alerts reach CGLLS: it reads, the staff manage
        ("public", "correspondant", 403, 403),
        ("public", None, 302, 302),
        ("dhup", "gestionnaire", 404, 404),  # the operator's space is on the public host only
        ("oph", "partenaire-cdc", 404, 404),
        ("esh", "organisme", 404, 404),
        ("coop", "editeur", 404, 404),
        ("dhup", None, 404, 404),
    ],
)
def test_permission_matrix(client_for, demo_user, secret_event, code, username, reads, writes):
    watched = rule(threshold=2, emails=["alerte-secrete@example.org"])
    client = client_for(code, demo_user(code, username) if username else None)
    for urls, expected in ((READ_URLS, reads), (WRITE_URLS, writes)):
        for url in urls:
            response = client.get(url.format(pk=watched.pk))
            assert response.status_code == expected, (url, code, username)
            if expected != 200:
                body = response.content.decode()
                for secret in ("victime-secrete", "détail-confidentiel", "alerte-secrete"):
                    assert secret not in body
    if reads == 200 and writes != 200:  # a reader is offered no change
        page = client.get("/operateur/securite/regles/").content.decode()
        assert "alerte-secrete" in page
        assert "/supprimer/" not in page and "/regles/nouvelle/" not in page
    deleted = client.post(f"/operateur/securite/regles/{watched.pk}/supprimer/")
    assert deleted.status_code == (302 if writes == 200 else writes)
    assert SecurityAlertRule.objects.filter(pk=watched.pk).exists() == (writes != 200)
    created = client.post(
        "/operateur/securite/regles/nouvelle/",
        {"kind": "lockout", "threshold": 1, "window_minutes": 5, "notify_cglls": "on"},
    )
    assert created.status_code == (302 if writes == 200 else writes)
    assert SecurityAlertRule.objects.filter(kind="lockout").exists() == (writes == 200)


def test_events_list_and_filters(client_for, demo_user, public_platform):
    now = timezone.now()
    event(now - dt.timedelta(hours=3), platform="oph", username="alice")
    event(now - dt.timedelta(hours=2), kind=Kind.LOCKOUT, platform="dhup", username="bob")
    event(now - dt.timedelta(days=3), kind=Kind.RATE_LIMITED, platform="public", username="carole")
    client = client_for("public", demo_user("public", "maintenance"))

    def shown(query=""):
        page = html.unescape(client.get(f"/operateur/securite/{query}").content.decode())
        return {name for name in ("alice", "bob", "carole") if name in page}, page

    names, page = shown()
    assert names == {"alice", "bob", "carole"}
    assert "<td>Fédération des OPH</td>" in page  # the platform's name, not its code
    assert shown("?type=lockout")[0] == {"bob"}
    assert shown("?plateforme=oph")[0] == {"alice"}
    since = timezone.localtime(now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert shown(f"?du={since}")[0] == {"alice", "bob"}
    assert shown("?identifiant=BO")[0] == {"bob"}
    # a wrong filter says so and lists nothing
    names, page = shown(f"?du={since}&au=2000-01-01T00:00")
    assert names == set() and "La fin de la période doit suivre son début." in page
    names, page = shown("?ip=pas-une-adresse")
    assert names == set() and "Saisissez une adresse IPv4 ou IPv6 valide." in page


def test_the_rule_form_refuses_with_the_reason_and_stores_nothing(client_for, demo_user):
    client = client_for("public", demo_user("public", "hotline"))
    response = client.post(
        "/operateur/securite/regles/nouvelle/",
        {"kind": "login_failed", "threshold": 5, "window_minutes": 10},
    )
    assert response.status_code == 200
    assert MSG_RULE_NO_RECIPIENT in html.unescape(response.content.decode())
    response = client.post(
        "/operateur/securite/regles/nouvelle/",
        {
            "kind": "login_failed",
            "threshold": 5,
            "window_minutes": 10,
            "emails": "soc@example.org\npas-une-adresse",
        },
    )
    assert "« pas-une-adresse » n'est pas une adresse électronique valide." in html.unescape(
        response.content.decode()
    )
    assert not SecurityAlertRule.objects.exists()
    response = client.post(
        "/operateur/securite/regles/nouvelle/",
        {
            "kind": "login_failed",
            "threshold": 5,
            "window_minutes": 10,
            "emails": "SOC@example.org, soc@example.org; rssi@example.org",
        },
    )
    assert response.status_code == 302
    assert SecurityAlertRule.objects.get().emails == ["soc@example.org", "rssi@example.org"]


# --- the monthly summary ------------------------------------------------------------------


def test_the_activity_report_counts_the_platforms_events_by_month(public_platform):
    now = timezone.localtime()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = first - dt.timedelta(days=2)
    event(last_month, platform="oph")
    event(last_month, kind=Kind.UPLOAD_REFUSED, platform="oph")
    event(first + dt.timedelta(seconds=1), platform="oph")
    event(first + dt.timedelta(seconds=1), platform="esh")  # another platform
    event(first - dt.timedelta(days=40), platform="oph")  # two months ago
    figures = activity.activity_figures("oph", 2024)
    lines = {label: (previous, current) for label, previous, current in figures.security.lines}
    assert lines["Échec de connexion"] == (1, 1)
    assert lines["Classeur dangereux refusé"] == (1, 0)
    assert lines["Compte verrouillé (trop d'échecs)"] == (0, 0)
    assert (figures.security.total_previous, figures.security.total_current) == (2, 1)

    page = activity.report_html(figures)
    assert "<h2>Événements de sécurité</h2>" in page
    sheet = load_workbook(io.BytesIO(activity.report_xlsx(figures)))["sécurité"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Événements de sécurité"
    assert ("Échec de connexion", 1, 1) in rows and rows[-1] == ("Total", 2, 1)


def test_platforms_events_land_in_public_where_the_rules_read_them(public_platform):
    from tenants.security_events import security_event_record

    rule(threshold=2)
    for code in ("oph", "dhup"):
        with schema_context(code):
            security_event_record(Kind.LOGIN_FAILED, username="x")
    assert [a.event_count for a in security_alerts_check()] == [2]
