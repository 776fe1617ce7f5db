"""Production settings pass `check --deploy`; plain HTTP is redirected or refused in French."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_under_the_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        # never connected to: `check` without --database opens no connection
        "DATABASE_URL": "postgres://harmonia:unused@127.0.0.1:1/harmonia",
        "HARMONIA_BASE_DOMAIN": "harmonia.example.fr",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_the_production_settings_name_the_platforms_in_hsts_and_csrf_origins():
    code = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT,"
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CSRF_TRUSTED_ORIGINS]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://harmonia:unused@127.0.0.1:1/harmonia",
        "HARMONIA_BASE_DOMAIN": "harmonia.example.fr",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seconds, subdomains, redirect, session, csrf, origins = json.loads(result.stdout)
    assert seconds >= 365 * 24 * 3600 and subdomains and redirect and session and csrf
    assert origins == ["https://harmonia.example.fr", "https://*.harmonia.example.fr"]


HTTPS = {"SECURE_SSL_REDIRECT": True}


@pytest.mark.django_db
@override_settings(**HTTPS, SECURE_REDIRECT_EXEMPT=[r"^healthz$"])
def test_plain_http_is_redirected_to_https_with_a_french_line(client_for):
    client = client_for("oph")
    response = client.get("/comptes/connexion/?suivant=1")
    assert response.status_code == 301
    host = response.wsgi_request.get_host()
    assert response["Location"] == f"https://{host}/comptes/connexion/?suivant=1"
    assert "Ce site n'est servi qu'en HTTPS" in response.content.decode()

    # behind nginx, a request that came in over HTTPS is served
    secure = client.get("/comptes/connexion/", headers={"x-forwarded-proto": "https"})
    assert secure.status_code == 301  # the test settings have no SECURE_PROXY_SSL_HEADER
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        secure = client.get("/comptes/connexion/", headers={"x-forwarded-proto": "https"})
        assert secure.status_code == 200
    # the health probe speaks plain HTTP
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
@override_settings(**HTTPS)
def test_a_post_over_plain_http_is_refused_in_french_and_nothing_done(client_for, demo_user):
    from axes.models import AccessAttempt

    client = client_for("oph")
    response = client.post("/comptes/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "n'accepte que des requêtes en HTTPS" in response.content.decode()
    assert not AccessAttempt.objects.exists()

    api = client.post("/api/v1/declarations/", data=b"<x/>", content_type="application/xml")
    assert api.status_code == 403
    assert "HTTPS" in api.json()["message"]


@pytest.mark.django_db
@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    **HTTPS,
)
def test_https_responses_carry_hsts_for_the_sub_domains(client_for):
    response = client_for("oph").get("/comptes/connexion/", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
