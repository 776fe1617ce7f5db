"""Build the test database once per set of build inputs (migrations, platforms, demo data).

Its name carries a hash of those inputs: a run whose inputs are unchanged reuses it, a change
builds a new one (under a temporary name, renamed when complete) and drops the stale ones.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = [
    *sorted(ROOT.glob("*/migrations/*.py")),
    ROOT / "tenants" / "platforms.py",
    ROOT / "tenants" / "services.py",
    # each app seeds a new platform in its platform_prepared receiver
    *sorted(ROOT.glob("*/receivers.py")),
    ROOT / "partners" / "services.py",
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


def _admin_connection_params() -> dict:
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    return params


def _admin_connection() -> psycopg.Connection:
    return psycopg.connect(**_admin_connection_params(), autocommit=True)


def use_database(name: str) -> None:
    for conn in connections.all():
        conn.close()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def build_database(name: str) -> None:
    from organisms.demo import load_demo
    from tenants.services import platforms_sync

    building = f"{name}_build"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
        admin.execute(f'CREATE DATABASE "{building}"')
    use_database(building)
    call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
    platforms_sync(base_domain="localhost")
    load_demo()
    use_database(name)
    with _admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        stale = admin.execute(
            "SELECT datname FROM pg_database "
            "WHERE datname LIKE 'test_harmonia_%%' AND datname <> %s "
            "AND datname NOT LIKE '%%_build'",
            [name],
        ).fetchall()
        for (old,) in stale:
            # another pytest process may still be running on an older build: leave it then
            # (it is dropped by a later build), never cut its connections
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{old}"')
            except psycopg.errors.ObjectInUse:
                continue


BUILD_LOCK = 482_913_001  # advisory lock key: one build at a time on a server


def ensure_database(name: str) -> None:
    """Use ``name``, building it first if needed; concurrent pytest processes wait for the
    one that builds instead of building the same database twice."""
    if database_exists(name):
        use_database(name)
        return
    with _admin_connection() as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", [BUILD_LOCK])
        try:
            if database_exists(name):
                use_database(name)
            else:
                build_database(name)
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [BUILD_LOCK])


def database_name() -> str:
    return f"test_harmonia_{_build_hash()}"


def database_exists(name: str) -> bool:
    """True when ``name`` exists and still holds its platforms.

    A ``transactional_db`` test (or pytest-django's ``live_server``, which implies it) ends
    with a flush of the public schema that empties the platform table: such a database is
    dropped here so that it gets rebuilt."""
    with _admin_connection() as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if found is None:
        return False
    params = {**_admin_connection_params(), "dbname": name}
    with psycopg.connect(**params) as conn:
        platforms = conn.execute("SELECT count(*) FROM public.tenants_platform").fetchone()[0]
    if platforms:
        return True
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return False
