"""Test database: built once per set of migrations, then reused (a few seconds per run).

The database holds the public host, the template schema and the five platforms with the
demo data; each test runs inside a transaction that is rolled back (pytest-django's ``db``).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.test.client import TenantClient
from django_tenants.utils import schema_context

from tests.dbbuild import database_name, ensure_database


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    name = database_name()
    with django_db_blocker.unblock():
        ensure_database(name)
    yield


@pytest.fixture(autouse=True)
def _public_schema_first():
    """The connection keeps the last request's schema: every test starts on public."""
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (site/ratelimit.py) live in the cache, which outlives a test's
    transaction when it is the local-memory one: each test starts with none. (A database
    cache is rolled back with the test, and clearing it would need the database.)"""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()


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
            users = User.objects.all()
            if schema != "public":
                users = users.select_related("membership__organism", "membership__partner")
            return users.get(username=username)

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
        app.tasks[task_name](**(json.loads(args) if isinstance(args, str) else args))
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE public.procrastinate_jobs SET status = 'succeeded' WHERE id = %s", [job_id]
            )
        ran += 1
    connection.set_schema_to_public()
    return ran
