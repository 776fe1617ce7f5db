"""Correspondents named by CGLLS: the platforms they follow, their access to the tracker."""

from __future__ import annotations

import html
import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role, User
from operations.models import Anomaly, Correspondent
from tests.conftest import run_queued_jobs

pytestmark = pytest.mark.django_db

WORDS_25 = " ".join(["mot"] * 25)


def add(client, **overrides):
    data = {
        "name": "Sophie Leroy",
        "email": "Sophie.Leroy@fede-oph.example.fr",
        "platforms": ["oph"],
        "tracker_access": "on",
        "active": "on",
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/operateur/correspondants/", data)


def test_access_to_the_tracker_makes_an_account_and_mails_a_link(client_for, demo_user):
    hotline = client_for("public", demo_user("public", "hotline"))
    mail.outbox.clear()
    assert add(hotline).status_code == 302
    correspondent = Correspondent.objects.select_related("user").get(
        email="sophie.leroy@fede-oph.example.fr"
    )
    assert correspondent.platforms == ["oph"]
    user = correspondent.user
    assert (user.role, user.username, user.is_active) == (
        Role.CORRESPONDANT,
        "sophie.leroy@fede-oph.example.fr",
        True,
    )
    assert not user.has_usable_password()
    run_queued_jobs()
    (welcome,) = [m for m in mail.outbox if m.to == [user.email]]
    link = re.search(r"https?://\S+/comptes/\S+", welcome.body).group(0)
    # the single-use link opens the page where the person chooses a password
    page = client_for("public").get(link, follow=True)
    assert page.status_code == 200 and "mot de passe" in page.content.decode().lower()

    listing = hotline.get("/operateur/correspondants/").content.decode()
    assert "Sophie Leroy" in listing and "Fédération des OPH" in listing


def test_a_correspondent_reads_and_reports_anomalies_and_nothing_else(client_for, demo_user):
    correspondent = demo_user("public", "correspondant")
    client = client_for("public", correspondent)

    home = client.get("/operateur/").content.decode()
    assert "Suivi des anomalies" in home and "Hotline" not in home

    response = client.post(
        "/operateur/anomalies/nouvelle/",
        {
            "short_description": WORDS_25,
            "severity": "minor",
            "found_on": "2026-11-02",
            "reporter": "Corinne Correspondante, DHUP",
            "platforms": ["dhup"],
        },
    )
    assert response.status_code == 302
    anomaly = Anomaly.objects.get(created_by=correspondent)
    assert client.get("/operateur/anomalies/").status_code == 200
    detail = client.get(f"/operateur/anomalies/{anomaly.number}/").content.decode()
    assert anomaly.number in detail and "Demander un reclassement" not in detail
    assert client.get("/operateur/anomalies/synthese/").status_code == 200

    forbidden_posts = [
        (f"/operateur/anomalies/{anomaly.number}/modifier/", {"status": "closed"}),
        (f"/operateur/anomalies/{anomaly.number}/reclassement/", {"justification": "x"}),
    ]
    for url, data in forbidden_posts:
        assert client.post(url, data).status_code == 403, url
    for url in [
        f"/operateur/anomalies/{anomaly.number}/details/",
        "/operateur/correspondants/",
        "/operateur/versions/",
        "/operateur/maintenances/",
        "/operateur/hotline/",
        "/operateur/activite/",
    ]:
        assert client.get(url).status_code == 403, url
    anomaly.refresh_from_db()
    assert anomaly.status == "new"


def test_withdrawing_access_or_deactivating_disables_the_account(client_for, demo_user):
    cglls = client_for("public", demo_user("public", "cglls"))  # CGLLS keeps the list too
    add(cglls)
    correspondent = Correspondent.objects.get(email="sophie.leroy@fede-oph.example.fr")
    url = f"/operateur/correspondants/{correspondent.pk}/"
    run_queued_jobs()  # the welcome e-mail of the new account
    mail.outbox.clear()

    response = cglls.post(
        url, {"name": "Sophie Leroy", "email": correspondent.email, "active": "on"}
    )
    assert response.status_code == 302
    user = User.objects.get(pk=correspondent.user_id)
    assert not user.is_active  # access withdrawn, the e-mails go on
    assert Correspondent.objects.get(pk=correspondent.pk).active
    run_queued_jobs()
    (suspended,) = mail.outbox  # the person is told their account is suspended
    assert suspended.to == [correspondent.email] and "suspendu" in suspended.subject
    mail.outbox.clear()

    cglls.post(
        url,
        {
            "name": "Sophie Leroy",
            "email": correspondent.email,
            "tracker_access": "on",
            "active": "",
        },
    )
    user.refresh_from_db()
    assert not user.is_active  # an inactive correspondent has no access either

    cglls.post(
        url,
        {
            "name": "Sophie Leroy",
            "email": correspondent.email,
            "tracker_access": "on",
            "active": "on",
        },
    )
    user.refresh_from_db()
    assert user.is_active
    assert User.objects.filter(role=Role.CORRESPONDANT, email=correspondent.email).count() == 1
    run_queued_jobs()
    # the account existed: no second welcome e-mail, the notice that it is restored
    assert [m.subject for m in mail.outbox] == ["Harmonia : votre compte est rétabli"]


def test_an_address_of_the_operator_staff_is_refused_and_nothing_saved(client_for, demo_user):
    hotline_user = demo_user("public", "hotline")
    hotline = client_for("public", hotline_user)
    response = add(hotline, email=hotline_user.email)
    assert response.status_code == 200
    assert "déjà celle d'un compte de l'opérateur" in html.unescape(response.content.decode())
    assert not Correspondent.objects.filter(email=hotline_user.email.lower()).exists()
    assert User.objects.filter(email__iexact=hotline_user.email).count() == 1


def test_platform_users_and_strangers_get_nothing(client_for, demo_user):
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    assert gestionnaire.get("/operateur/anomalies/").status_code == 404
    anonymous = client_for("public").get("/operateur/anomalies/")
    assert anonymous.status_code == 302 and "/comptes/" in anonymous["Location"]


def _anomaly(platforms: list[str], by) -> Anomaly:
    from operations import services

    return services.anomaly_create(
        by=by,
        short_description=WORDS_25,
        severity="minor",
        found_on=timezone.localdate(),
        reporter="Hotline",
        platforms=platforms,
    )


def test_a_correspondent_reads_only_the_anomalies_of_the_platforms_followed(client_for, demo_user):
    hotline = demo_user("public", "hotline")
    followed = _anomaly(["dhup"], hotline)  # the demo correspondent follows the ministry's
    shared = _anomaly(["oph", "dhup"], hotline)
    other = _anomaly(["oph"], hotline)
    client = client_for("public", demo_user("public", "correspondant"))

    listing = client.get("/operateur/anomalies/").content.decode()
    assert followed.number in listing and shared.number in listing
    assert other.number not in listing
    assert client.get(f"/operateur/anomalies/{followed.number}/").status_code == 200
    assert client.get(f"/operateur/anomalies/{other.number}/").status_code == 404
    today = timezone.localdate()
    synthesis = client.get(
        f"/operateur/anomalies/synthese/?annee={today.year}&mois={today.month}"
    ).content.decode()
    assert followed.number in synthesis and other.number not in synthesis

    # reporting an anomaly on a platform not followed is refused, nothing saved
    count = Anomaly.objects.count()
    response = client.post(
        "/operateur/anomalies/nouvelle/",
        {
            "short_description": WORDS_25,
            "severity": "minor",
            "found_on": today.isoformat(),
            "reporter": "Corinne Correspondante",
            "platforms": ["oph"],
        },
    )
    assert response.status_code == 200 and "oph" in html.unescape(response.content.decode())
    assert Anomaly.objects.count() == count

    # operator staff still read every anomaly
    staff_listing = client_for("public", hotline).get("/operateur/anomalies/").content.decode()
    assert other.number in staff_listing


def test_a_correspondent_following_no_platform_reads_all_and_one_without_record_nothing(
    client_for, demo_user
):
    hotline = demo_user("public", "hotline")
    other = _anomaly(["oph"], hotline)
    user = demo_user("public", "correspondant")
    Correspondent.objects.filter(user=user).update(platforms=[])
    client = client_for("public", user)
    assert client.get(f"/operateur/anomalies/{other.number}/").status_code == 200

    Correspondent.objects.filter(user=user).delete()
    assert other.number not in client.get("/operateur/anomalies/").content.decode()
    assert client.get(f"/operateur/anomalies/{other.number}/").status_code == 404
