"""Editing an anomaly's details: validation in French naming the field, nothing saved on error,
the change recorded in the history, no e-mail, and who may edit."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from operations import services
from operations.models import Anomaly, AnomalyEvent, Correspondent, Release
from tests.conftest import run_queued_jobs

WORDS = " ".join(["mot"] * 25)


def queued_jobs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM public.procrastinate_jobs WHERE status = 'todo'")
        return cursor.fetchone()[0]


@pytest.fixture
def staff(demo_user):
    return demo_user("public", "hotline")


@pytest.fixture
def anomaly(db, staff):
    """An anomaly found on 3 March 2025, its creation e-mails already sent."""
    Correspondent.objects.create(name="Alice", email="alice@example.org")
    created = services.anomaly_create(
        by=staff,
        short_description=WORDS,
        severity="major",
        found_on=date(2025, 3, 3),
        reporter="M. Dupont, par téléphone",
        platforms=["oph"],
    )
    run_queued_jobs()
    mail.outbox.clear()
    return created


@pytest.fixture
def release(db):
    return Release.objects.create(number="2.3.1", date=date(2025, 3, 7))


def test_details_change_is_recorded_and_not_mailed(anomaly, staff, release):
    event = services.anomaly_update_details(
        anomaly,
        by=staff,
        release=release,
        fixed_test_on=date(2025, 3, 5),
        fixed_prod_on=date(2025, 3, 7),
        platforms=["oph", "dhup"],
        reporter="M. Dupont, par téléphone",  # unchanged: not listed
    )
    assert event.by == staff and not event.new_status and not event.new_severity
    assert event.comment == (
        "Corrigée en recette le : — → 05/03/2025 ; "
        "Corrigée en production le : — → 07/03/2025 ; "
        "Version de livraison : — → 2.3.1 ; "
        "Plateformes concernées : Fédération des OPH → Ministère (DHUP), Fédération des OPH"
    )
    anomaly.refresh_from_db()
    assert anomaly.release == release and anomaly.fixed_prod_on == date(2025, 3, 7)
    assert anomaly.platforms == ["dhup", "oph"]
    assert anomaly.status == "new"  # the status is not touched here
    # Correspondents hear of creations and of status or severity changes only.
    assert queued_jobs() == 0
    assert run_queued_jobs() == 0 and mail.outbox == []

    # Same values again (platforms in another order): nothing recorded.
    events = anomaly.events.count()
    assert (
        services.anomaly_update_details(
            anomaly, by=staff, release=release, platforms=["oph", "dhup"]
        )
        is None
    )
    assert anomaly.events.count() == events


def test_description_change_shows_old_and_new(anomaly, staff):
    new_text = " ".join(["terme"] * 30)
    event = services.anomaly_update_details(anomaly, by=staff, short_description=new_text)
    assert event.comment == f"Description courte : « {WORDS} » → « {new_text} »"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"fixed_prod_on": date(2025, 3, 1)},
            "fixed_prod_on",
            "« Corrigée en production le » ne peut pas précéder la date de constat (03/03/2025).",
        ),
        (
            {"fixed_test_on": date(2025, 3, 10), "fixed_prod_on": date(2025, 3, 8)},
            "fixed_prod_on",
            "« Corrigée en production le » ne peut pas précéder la correction en recette "
            "(10/03/2025).",
        ),
        (
            {"fixed_test_on": date(2025, 3, 2)},
            "fixed_test_on",
            "« Corrigée en recette le » ne peut pas précéder la date de constat (03/03/2025).",
        ),
        (
            {"found_on": timezone.localdate() + timedelta(days=1)},
            "found_on",
            "« Constatée le » ne peut pas être une date future.",
        ),
        (
            {"short_description": "Trop court", "reporter": "Mme Durand"},
            "short_description",
            "La description courte doit compter entre 20 et 40 mots (2 saisis).",
        ),
        ({"reporter": ""}, "reporter", "Ce champ ne peut pas être vide."),
    ],
)
def test_wrong_details_are_refused_and_nothing_is_saved(anomaly, staff, fields, field, message):
    events = AnomalyEvent.objects.filter(anomaly=anomaly).count()
    with pytest.raises(ValidationError) as error:
        services.anomaly_update_details(anomaly, by=staff, **fields)
    assert error.value.message_dict[field] == [message]
    stored = Anomaly.objects.get(pk=anomaly.pk)
    assert (stored.found_on, stored.fixed_test_on, stored.fixed_prod_on) == (
        date(2025, 3, 3),
        None,
        None,
    )
    assert stored.release is None and stored.short_description == WORDS
    assert stored.reporter == "M. Dupont, par téléphone"
    assert AnomalyEvent.objects.filter(anomaly=anomaly).count() == events


def test_unknown_fields_are_a_programming_error(anomaly, staff):
    with pytest.raises(TypeError):
        services.anomaly_update_details(anomaly, by=staff, severity="critical")


def form_data(**overrides):
    data = {
        "short_description": WORDS,
        "found_on": "2025-03-03",
        "fixed_test_on": "",
        "fixed_prod_on": "",
        "release": "",
        "reporter": "M. Dupont, par téléphone",
        "platforms": ["oph"],
    }
    data.update(overrides)
    return data


def test_staff_edit_details_on_the_screen(anomaly, client_for, demo_user, release):
    url = f"/operateur/anomalies/{anomaly.number}/details/"
    detail_url = f"/operateur/anomalies/{anomaly.number}/"
    for username in ("hotline", "maintenance"):
        client = client_for("public", demo_user("public", username))
        assert url in client.get(detail_url).content.decode()  # linked from the anomaly
        assert client.get(url).status_code == 200

    client = client_for("public", demo_user("public", "maintenance"))
    refused = client.post(url, form_data(fixed_test_on="2025-03-10", fixed_prod_on="2025-03-08"))
    assert refused.status_code == 200
    assert (
        "« Corrigée en production le » ne peut pas précéder la correction en recette"
        in unescape(refused.content.decode())
    )
    anomaly.refresh_from_db()
    assert anomaly.fixed_test_on is None and anomaly.fixed_prod_on is None

    done = client.post(
        url,
        form_data(fixed_test_on="2025-03-05", fixed_prod_on="2025-03-07", release=release.pk),
    )
    assert done.status_code == 302 and done["Location"] == detail_url
    anomaly.refresh_from_db()
    assert (anomaly.fixed_test_on, anomaly.fixed_prod_on, anomaly.release) == (
        date(2025, 3, 5),
        date(2025, 3, 7),
        release,
    )
    history = unescape(client.get(detail_url).content.decode())
    assert "Version de livraison : — → 2.3.1" in history
    assert run_queued_jobs() == 0 and mail.outbox == []


def test_only_operator_staff_edit_details(anomaly, client_for, demo_user, release):
    url = f"/operateur/anomalies/{anomaly.number}/details/"
    cglls = client_for("public", demo_user("public", "cglls"))
    assert url not in cglls.get(f"/operateur/anomalies/{anomaly.number}/").content.decode()
    assert cglls.get(url).status_code == 403
    assert cglls.post(url, form_data(release=release.pk)).status_code == 403
    anomaly.refresh_from_db()
    assert anomaly.release is None
    assert client_for("public").get(url).status_code == 302
    gestionnaire = client_for("oph", demo_user("oph", "gestionnaire"))
    assert gestionnaire.get(url).status_code == 404
