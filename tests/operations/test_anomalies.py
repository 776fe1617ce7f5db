"""Anomaly tracker: deadlines at their boundaries, e-mails, access, validation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from operations import services
from operations.deadlines import anomaly_deadline, anomaly_target, is_overdue
from operations.models import Anomaly, AnomalyEvent, Correspondent, validate_short_description
from tests.conftest import run_queued_jobs

ACK = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())
WORDS_25 = " ".join(["mot"] * 25)


def anomaly_stub(severity, status="acknowledged", acknowledged_at=ACK):
    return SimpleNamespace(
        severity=severity,
        acknowledged_at=acknowledged_at,
        is_resolved=status in {"fixed_prod", "closed"},
    )


@pytest.mark.parametrize(
    ("severity", "delay"),
    [
        ("critical", timedelta(hours=1)),
        ("major", timedelta(hours=24)),
        ("minor", timedelta(days=14)),
    ],
)
def test_deadline_boundaries(severity, delay):
    assert anomaly_deadline(severity, ACK) == ACK + delay
    anomaly = anomaly_stub(severity)
    assert not is_overdue(anomaly, ACK + delay)  # exactly at the deadline: on time
    assert is_overdue(anomaly, ACK + delay + timedelta(seconds=1))
    assert not is_overdue(anomaly, ACK + delay - timedelta(seconds=1))


def test_minor_target_is_seven_days_and_no_deadline_before_acknowledgement():
    assert anomaly_target("minor", ACK) == ACK + timedelta(days=7)
    assert anomaly_target("critical", ACK) == ACK + timedelta(hours=1)
    assert anomaly_deadline("critical", None) is None
    assert not is_overdue(anomaly_stub("critical", acknowledged_at=None), ACK + timedelta(days=99))


def test_resolved_anomalies_are_never_overdue():
    late = ACK + timedelta(days=30)
    assert not is_overdue(anomaly_stub("major", status="fixed_prod"), late)
    assert not is_overdue(anomaly_stub("major", status="closed"), late)
    assert is_overdue(anomaly_stub("major", status="fixed_test"), late)


def test_short_description_needs_20_to_40_words():
    validate_short_description(" ".join(["a"] * 20))
    validate_short_description(" ".join(["a"] * 40))
    for count in (19, 41):
        with pytest.raises(ValidationError) as error:
            validate_short_description(" ".join(["a"] * count))
        assert "entre 20 et 40 mots" in error.value.messages[0]


@pytest.fixture
def correspondents(db):
    Correspondent.objects.create(name="Alice", email="alice@example.org")  # every platform
    Correspondent.objects.create(name="Bruno", email="bruno@example.org", platforms=["oph"])
    Correspondent.objects.create(name="Chloé", email="chloe@example.org", platforms=["esh"])
    Correspondent.objects.create(name="Ancien", email="ancien@example.org", active=False)


# an anomaly of oph and dhup reaches: Alice (all platforms), Bruno (oph), the demo's
# correspondent (dhup) and CGLLS; not Chloé (esh only) nor the inactive one
RECIPIENTS = [
    "alice@example.org",
    "bruno@example.org",
    "cglls@public.harmonia.test",
    "correspondant@public.harmonia.test",
]


def create(by, **overrides):
    fields = {
        "short_description": WORDS_25,
        "severity": "major",
        "found_on": date(2026, 3, 1),
        "reporter": "M. Dupont, OPH de l'Ain, par téléphone",
        "platforms": ["oph", "dhup"],
    }
    fields.update(overrides)
    return services.anomaly_create(by=by, **fields)


def test_creation_and_every_change_mail_the_active_correspondents(correspondents, demo_user):
    hotline = demo_user("public", "hotline")
    mail.outbox.clear()
    anomaly = create(hotline)
    year = timezone.localdate().year
    assert anomaly.number == f"ANO-{year}-001"
    assert create(hotline).number == f"ANO-{year}-002"
    run_queued_jobs()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS * 2)
    assert all(len(m.to) == 1 for m in mail.outbox)
    assert "nouvelle anomalie" in mail.outbox[0].subject
    # what the notice must say: description, classification, date and time of registration
    body = mail.outbox[0].body
    assert WORDS_25 in body and "Gravité : Majeure" in body
    assert f"Enregistrée le : {timezone.localtime(anomaly.created_at):%d/%m/%Y à %H:%M}" in body

    mail.outbox.clear()
    services.anomaly_change(anomaly, by=hotline, status="acknowledged", comment="Vu.")
    run_queued_jobs()
    assert len(mail.outbox) == len(RECIPIENTS)
    assert "Nouvelle → Prise en compte" in mail.outbox[0].body
    anomaly.refresh_from_db()
    assert anomaly.acknowledged_at is not None

    mail.outbox.clear()
    assert services.anomaly_change(anomaly, by=hotline, status="acknowledged") is None
    run_queued_jobs()
    assert mail.outbox == []

    services.anomaly_change(anomaly, by=hotline, severity="critical")
    services.anomaly_change(anomaly, by=hotline, status="fixed_prod")
    run_queued_jobs()
    assert len(mail.outbox) == 2 * len(RECIPIENTS)
    anomaly.refresh_from_db()
    assert anomaly.fixed_prod_on == timezone.localdate()
    assert [e.new_status or e.new_severity for e in anomaly.events.all()] == [
        "new",
        "acknowledged",
        "critical",
        "fixed_prod",
    ]


def test_screens_and_roles(correspondents, client_for, demo_user):
    hotline = client_for("public", demo_user("public", "hotline"))
    cglls_user = demo_user("public", "cglls")
    cglls = client_for("public", cglls_user)
    assert hotline.get("/operateur/").status_code == 200
    assert hotline.get("/operateur/anomalies/").status_code == 200

    refused = hotline.post(
        "/operateur/anomalies/nouvelle/",
        {
            "short_description": "Trop court",
            "severity": "minor",
            "found_on": "2026-03-01",
            "reporter": "X",
            "platforms": ["oph"],
        },
    )
    assert "entre 20 et 40 mots" in refused.content.decode()
    assert not Anomaly.objects.exists()

    created = cglls.post(
        "/operateur/anomalies/nouvelle/",
        {
            "short_description": WORDS_25,
            "severity": "minor",
            "found_on": "2026-03-01",
            "reporter": "Mme Martin, par courriel",
            "platforms": ["oph", "esh"],
        },
    )
    anomaly = Anomaly.objects.get()
    assert created["Location"] == f"/operateur/anomalies/{anomaly.number}/"
    detail = hotline.get(created["Location"]).content.decode()
    assert "Mme Martin" in detail and "Fédération des ESH" in detail

    url = f"/operateur/anomalies/{anomaly.number}/modifier/"
    # CGLLS does not move the status; the operator does not change the severity directly.
    assert cglls.post(url, {"status": "closed", "severity": "minor"}).status_code == 403
    assert hotline.post(url, {"status": "new", "severity": "critical"}).status_code == 403
    assert hotline.post(url, {"status": "acknowledged", "severity": "minor"}).status_code == 302
    anomaly.refresh_from_db()
    assert anomaly.status == "acknowledged"

    # A reclassification needs a justification; CGLLS decides it.
    reclass = f"/operateur/anomalies/{anomaly.number}/reclassement/"
    hotline.post(reclass, {"requested_severity": "major", "justification": "  "})
    assert not anomaly.reclassifications.exists()
    hotline.post(reclass, {"requested_severity": "major", "justification": "Bloque la saisie."})
    request = anomaly.reclassifications.get()
    decide = f"/operateur/reclassements/{request.pk}/decision/"
    assert hotline.post(decide, {"decision": "accept"}).status_code == 403
    assert cglls.post(decide, {"decision": "accept"}).status_code == 302
    anomaly.refresh_from_db()
    assert anomaly.severity == "major"
    assert AnomalyEvent.objects.filter(anomaly=anomaly, new_severity="major").exists()

    overdue = hotline.get("/operateur/anomalies/?overdue=on").content.decode()
    assert anomaly.number not in overdue


def test_overdue_flag_in_the_list(correspondents, client_for, demo_user):
    hotline_user = demo_user("public", "hotline")
    anomaly = create(hotline_user, severity="critical")
    Anomaly.objects.filter(pk=anomaly.pk).update(
        status="acknowledged", acknowledged_at=timezone.now() - timedelta(hours=2)
    )
    page = client_for("public", hotline_user).get("/operateur/anomalies/?overdue=on")
    assert anomaly.number in page.content.decode()
    assert 'data-testid="overdue"' in page.content.decode()


def test_nobody_else_reaches_the_tracker(client_for, demo_user):
    assert client_for("public").get("/operateur/anomalies/").status_code == 302
    gestionnaire = client_for("oph", demo_user("oph", "gestionnaire"))
    assert gestionnaire.get("/operateur/anomalies/").status_code == 404
    assert gestionnaire.get("/operateur/correspondants/").status_code == 404
