"""/health/ (every host, no sign-in, nothing confidential) and the request id and JSON logs
that let several nodes' lines be read together."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from harmonia.logs import ContextFilter, JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"status", "database", "queue", "stalled_jobs", "workers"}


def _secrets() -> list[str]:
    db = settings.DATABASES["default"]
    return [
        s
        for s in (settings.SECRET_KEY, db.get("PASSWORD"), db.get("NAME"), db.get("HOST"))
        if s and len(str(s)) > 3
    ]


@pytest.mark.parametrize("host", ["public", "dhup", "oph", "esh", "coop", "epl"])
def test_anonymous_gets_the_health_of_every_host(client_for, host):
    response = client_for(host).get("/health/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == KEYS
    assert body["database"]["ok"] is True
    assert body["database"]["latency_ms"] >= 0
    assert set(body["queue"]) == {"todo", "doing"}
    # no session opened, no cookie, nothing that names the server or its secrets
    assert "Set-Cookie" not in response.headers
    for secret in _secrets():
        assert str(secret) not in response.content.decode()


@pytest.mark.parametrize(
    "username", ["gestionnaire", "organisme", "partenaire-cdc", "editeur", "partenaire-dreal"]
)
def test_every_role_gets_the_same_counts_and_nothing_more(client_for, demo_user, username):
    user = demo_user("dhup", username)
    body = client_for("dhup", user).get("/health/").json()
    assert set(body) == KEYS
    assert username not in json.dumps(body)


def test_the_former_address_answers_the_same(client_for):
    assert set(client_for("oph").get("/healthz").json()) == KEYS


def test_a_job_of_a_dead_worker_shows_as_stalled(client_for):
    from tenants.tasks import send_email

    before = client_for("public").get("/health/").json()
    with schema_context("dhup"):
        job = send_email.defer(subject="s", body="", to=["a@example.org"])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO public.procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '10 minutes') RETURNING id"
        )
        dead = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE public.procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [dead, job],
        )
    body = client_for("public").get("/health/").json()
    assert body["stalled_jobs"] == before["stalled_jobs"] + 1
    assert body["queue"]["doing"] == before["queue"]["doing"] + 1
    assert body["status"] == "degraded"


def _run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_database_the_health_says_so_with_503():
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/health/', HTTP_HOST='localhost')\n"
        "print(r.status_code, json.dumps(r.json()))\n"
    )
    done = _run_django(
        code,
        DJANGO_SETTINGS_MODULE="harmonia.settings.test",
        # a port nothing listens on
        DATABASE_URL="postgresql://postgres@127.0.0.1:9/harmonia",
    )
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "error", "database": {"ok": False}}


# --- request id and JSON logs ----------------------------------------------------------------
def test_a_request_id_is_made_or_taken_from_the_proxy_and_returned(client_for):
    made = client_for("oph").get("/health/")["X-Request-ID"]
    assert len(made) == 32
    given = client_for("oph").get("/health/", HTTP_X_REQUEST_ID="nginx-abc12345")
    assert given["X-Request-ID"] == "nginx-abc12345"
    # a header that could forge log lines is replaced
    forged = client_for("oph").get("/health/", HTTP_X_REQUEST_ID='x" \n{"level":"ERROR"}')
    assert forged["X-Request-ID"] != 'x" \n{"level":"ERROR"}'
    assert len(forged["X-Request-ID"]) == 32


@pytest.fixture
def json_lines():
    """The lines the `django.request` logger writes through the JSON formatter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_a_request_logs_a_json_line_with_platform_user_and_request_id(
    client_for, demo_user, json_lines
):
    user = demo_user("oph", "organisme")
    response = client_for("oph", user).get("/organismes/comptes/")  # gestionnaires only
    assert response.status_code == 403
    (line,) = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"
    assert "/organismes/comptes/" in line["message"]
    assert line["platform"] == "oph"
    assert line["user_id"] == user.pk
    assert line["request_id"] == response["X-Request-ID"]
    assert line["time"].endswith("+00:00")


def test_an_anonymous_request_logs_no_user(client_for, json_lines):
    response = client_for("esh").get("/organismes/comptes/", HTTP_X_REQUEST_ID="req-00000001")
    assert response.status_code == 302  # to the sign-in
    client_for("esh").get("/nulle-part/", HTTP_X_REQUEST_ID="req-00000002")
    (line,) = json_lines()
    assert (line["platform"], line["user_id"], line["request_id"]) == (
        "esh",
        None,
        "req-00000002",
    )


def test_production_settings_write_json_and_need_no_sentry():
    code = (
        "import django, sys; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.LOGGING['handlers']['console']['formatter'])\n"
        "print('sentry_sdk' in sys.modules)\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/harmonia",
        "SENTRY_DSN": "",
    }
    done = _run_django(code, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["json", "False"]
    text = _run_django(code, **env, HARMONIA_LOG_FORMAT="text")
    assert text.stdout.split() == ["text", "False"]


def test_production_settings_put_media_and_extractions_on_s3_when_a_bucket_is_named():
    code = (
        "import importlib\n"
        "settings = importlib.import_module('harmonia.settings.production')\n"
        "for name in ('default', 'extractions'):\n"
        "    s = settings.STORAGES[name]\n"
        "    print(s['BACKEND'], s.get('OPTIONS', {}).get('bucket_name'),"
        " s.get('OPTIONS', {}).get('location'))\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/harmonia",
    }
    local = _run_django(code, **env, HARMONIA_S3_BUCKET="")
    assert local.stdout.split() == [
        "django.core.files.storage.FileSystemStorage", "None", "None",
        "django.core.files.storage.FileSystemStorage", "None", *local.stdout.split()[5:],
    ]  # fmt: skip
    bucket = _run_django(code, **env, HARMONIA_S3_BUCKET="harmonia-media")
    assert bucket.returncode == 0, bucket.stderr
    assert bucket.stdout.split() == [
        "storages.backends.s3.S3Storage", "harmonia-media", "media",
        "storages.backends.s3.S3Storage", "harmonia-media", "extractions",
    ]  # fmt: skip


def test_production_settings_report_errors_to_sentry_only_with_a_dsn_and_without_pii():
    code = (
        "import django; django.setup()\n"
        "import sentry_sdk\n"
        "client = sentry_sdk.get_client()\n"
        "print(client.is_active(), client.options['send_default_pii'], client.options['dsn'])\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/harmonia",
        # a DSN on this machine where nothing listens: nothing is sent by starting up
        "SENTRY_DSN": "https://public@127.0.0.1:9/1",
    }
    done = _run_django(code, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "https://public@127.0.0.1:9/1"]
