"""Test database: built once per set of migrations, then reused (a few seconds per run).

The database holds the public host, the template schema and the five platforms with the
demo data; each test runs inside a transaction that is rolled back (pytest-django's ``db``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django_tenants.test.client import TenantClient
from django_tenants.utils import schema_context

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = [
    *sorted(ROOT.glob("*/migrations/*.py")),
    ROOT / "tenants" / "platforms.py",
    ROOT / "tenants" / "services.py",
    ROOT / "organisms" / "demo.py",
    ROOT / "fixtures" / "demo_places.json",
    Path(__file__),
]


def _build_hash() -> str:
    digest = hashlib.sha256()
    for path in BUILD_INPUTS:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _admin_connection() -> psycopg.Connection:
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


def _use_database(name: str) -> None:
    for conn in connections.all():
        conn.close()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def _build(name: str) -> None:
    from organisms.demo import load_demo
    from tenants.services import platforms_sync

    building = f"{name}_build"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
        admin.execute(f'CREATE DATABASE "{building}"')
    _use_database(building)
    call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
    platforms_sync(base_domain="localhost")
    load_demo()
    _use_database(name)
    with _admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        stale = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'test_harmonia_%%' AND datname <> %s",
            [name],
        ).fetchall()
        for (old,) in stale:
            admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    name = f"test_harmonia_{_build_hash()}"
    with django_db_blocker.unblock():
        with _admin_connection() as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            _use_database(name)
        else:
            _build(name)
    yield


@pytest.fixture(autouse=True)
def _public_schema_first():
    """The connection keeps the last request's schema: every test starts on public."""
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def platforms(db):
    from tenants.models import Platform

    return {p.code: p for p in Platform.objects.declaration_platforms()}


@pytest.fixture
def public_platform(db):
    from tenants.models import Platform

    return Platform.objects.get(schema_name="public")


@pytest.fixture
def client_for(platforms, public_platform):
    """``client_for("oph", user)``: a client on oph's host, signed in as ``user`` if given."""

    def make(code: str, user=None) -> TenantClient:
        platform = public_platform if code == "public" else platforms[code]
        client = TenantClient(platform)
        if user is not None:
            with schema_context(platform.schema_name):
                client.force_login(user)
        return client

    return make


@pytest.fixture
def demo_user(platforms):
    """``demo_user("oph", "gestionnaire")``: a demo account of one platform."""
    from accounts.models import User

    def get(code: str, username: str):
        schema = "public" if code == "public" else platforms[code].schema_name
        with schema_context(schema):
            return User.objects.select_related("membership__organism", "membership__partner").get(
                username=username
            )

    return get


def run_queued_jobs() -> int:
    """Run the jobs queued in this transaction the way the worker would, in order.

    The worker's own connection cannot see a test's uncommitted rows; the real worker is
    exercised in tests/tenants/test_jobs.py with committed data."""
    from procrastinate.contrib.django import app

    ran = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, task_name, args FROM public.procrastinate_jobs "
            "WHERE status = 'todo' ORDER BY id"
        )
        jobs = cursor.fetchall()
    for job_id, task_name, args in jobs:
        app.tasks[task_name](**args)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE public.procrastinate_jobs SET status = 'succeeded' WHERE id = %s", [job_id]
            )
        ran += 1
    connection.set_schema_to_public()
    return ran
