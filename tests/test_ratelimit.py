"""Rate limits on sign-in, password reset and the APIs: 429, Retry-After, a French message, and
nothing done."""

from __future__ import annotations

import html

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import RequestFactory
from django_tenants.utils import schema_context
from harmonia import ratelimit

from tests.accounts.test_auth import PASSWORD, login, oph_user  # noqa: F401
from tests.api.test_read_api import key_of
from tests.conftest import run_queued_jobs

pytestmark = pytest.mark.django_db

LIMITS = {
    "login_ip": "100/300",
    "login_username": "100/300",
    "password_reset_ip": "100/3600",
    "password_reset_email": "100/3600",
    "api_token": "100/60",
    "api_ip": "100/60",
    "api_anonymous": "100/60",
}


@pytest.fixture
def limits(settings):
    def set_limits(**overrides):
        settings.HARMONIA_RATE_LIMITS = {**LIMITS, **overrides}

    return set_limits


def assert_refused_in_french(response, *, json: bool = False):
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert seconds > 0
    expected = f"Trop de requêtes : réessayez dans {seconds} secondes."
    if json:
        assert response.json()["message"] == expected
    else:
        assert expected in html.unescape(response.content.decode())


def test_sign_in_per_username_then_nothing_is_tried(client_for, oph_user, limits):  # noqa: F811
    limits(login_username="2/300")
    client = client_for("oph")
    assert login(client, "mauvais").status_code == 200
    assert login(client, "mauvais").status_code == 200
    with schema_context("oph"):
        failures = AccessAttempt.objects.get(username="claire.martin").failures_since_start
    # over the limit even the right password does not sign in, and axes counts nothing more
    response = login(client_for("oph"), PASSWORD)
    assert_refused_in_french(response)
    assert "_auth_user_id" not in client.session
    with schema_context("oph"):
        assert AccessAttempt.objects.get(username="claire.martin").failures_since_start == (
            failures
        )
    # another account from the same address is not held back by this one's limit
    other = client_for("oph").post(
        "/comptes/connexion/", {"username": "someone.else", "password": "x"}
    )
    assert other.status_code == 200


def test_sign_in_per_address(client_for, oph_user, limits):  # noqa: F811
    limits(login_ip="2/300")
    client = client_for("oph")
    for name in ("a", "b"):
        client.post("/comptes/connexion/", {"username": name, "password": "x"})
    assert_refused_in_french(login(client, PASSWORD))
    # reading the sign-in page is not counted
    assert client.get("/comptes/connexion/").status_code == 200


def test_password_reset_per_email_sends_nothing_more(client_for, oph_user, limits):  # noqa: F811
    limits(password_reset_email="1/3600")
    client = client_for("oph")
    data = {"email": "claire.martin@example.org"}
    assert client.post("/comptes/mot-de-passe/oubli/", data).status_code == 302
    assert_refused_in_french(client.post("/comptes/mot-de-passe/oubli/", data))
    # the address written otherwise is the same address
    upper = {"email": "Claire.Martin@Example.org"}
    assert_refused_in_french(client.post("/comptes/mot-de-passe/oubli/", upper))
    run_queued_jobs()
    assert len(mail.outbox) == 1


def test_password_reset_per_address(client_for, oph_user, limits):  # noqa: F811
    limits(password_reset_ip="1/3600")
    client = client_for("oph")
    client.post("/comptes/mot-de-passe/oubli/", {"email": "nobody@example.org"})
    response = client.post("/comptes/mot-de-passe/oubli/", {"email": "claire.martin@example.org"})
    assert_refused_in_french(response)
    run_queued_jobs()
    assert mail.outbox == []


def test_api_per_token(client_for, demo_user, limits):
    limits(api_token="2/60")
    gestionnaire = demo_user("dhup", "gestionnaire")
    first, second = key_of(gestionnaire, name="un"), key_of(gestionnaire, name="deux")
    client = client_for("dhup")
    url = "/api/v1/campagnes"
    for _ in range(2):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200
    assert_refused_in_french(client.get(url, HTTP_AUTHORIZATION=f"Bearer {first}"), json=True)
    # the editors' API counts against the same token
    export = "/api/v1/declarations/ER_SOCIAUX/2024/xml"
    editors = client.get(export, HTTP_AUTHORIZATION=f"Bearer {first}")
    assert_refused_in_french(editors, json=True)
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200


def test_api_per_address_without_a_token_and_with_made_up_tokens(client_for, limits):
    limits(api_anonymous="1/60", api_ip="2/60")
    client = client_for("dhup")
    assert client.get("/api/v1/campagnes").status_code == 401
    assert_refused_in_french(client.get("/api/v1/campagnes"), json=True)
    for n in range(2):
        client.get("/api/v1/campagnes", HTTP_AUTHORIZATION=f"Bearer faux{n}")
    assert_refused_in_french(
        client.get("/api/v1/campagnes", HTTP_AUTHORIZATION="Bearer faux9"), json=True
    )


def test_a_window_ends_and_counting_starts_again(settings):
    settings.HARMONIA_RATE_LIMITS = {**LIMITS, "login_ip": "2/60"}
    start = 6000.0  # the start of a 60-second window
    assert ratelimit.hit("login_ip", "192.0.2.1", now=start) == 0
    assert ratelimit.hit("login_ip", "192.0.2.1", now=start + 1) == 0
    assert ratelimit.hit("login_ip", "192.0.2.1", now=start + 10) == 50
    assert ratelimit.hit("login_ip", "192.0.2.2", now=start + 10) == 0
    assert ratelimit.hit("login_ip", "192.0.2.1", now=start + 60) == 0


def test_the_address_behind_the_proxy(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    settings.HARMONIA_PROXY_COUNT = 0
    assert ratelimit.client_ip(request) == "127.0.0.1"
    settings.HARMONIA_PROXY_COUNT = 1  # nginx appended what it saw: the last address
    assert ratelimit.client_ip(request) == "198.51.100.7"
