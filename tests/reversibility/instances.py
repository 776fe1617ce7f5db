"""Database copies and a new empty instance, for export → import round trips."""

from __future__ import annotations

import time

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from tests.dbbuild import _admin_connection, _build_hash, use_database

EMPTY_PREFIX = "test_empty_"


def copy_database(template: str, name: str, attempts: int = 30) -> None:
    """``CREATE DATABASE name TEMPLATE template`` (a file copy, about a second). PostgreSQL
    refuses while another session is connected to the template: retry for a while."""
    for connection in connections.all():
        connection.close()
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(attempts):
            try:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return
            except psycopg.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(1)


def drop_database(name: str) -> None:
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database_name() -> str:
    """A new instance as ``make migrate`` leaves it (migrations and platforms, no data),
    built once per set of build inputs; copy it before writing into it."""
    name = f"{EMPTY_PREFIX}{_build_hash()}"
    with _admin_connection() as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if found:
        return name
    from tenants.services import platforms_sync

    current = settings.DATABASES["default"]["NAME"]
    building = f"{name}_build"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
        admin.execute(f'CREATE DATABASE "{building}"')
    try:
        use_database(building)
        call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
        platforms_sync(base_domain="localhost")
    finally:
        use_database(current)
    with _admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        stale = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [f"{EMPTY_PREFIX}%", name],
        ).fetchall()
        for (old,) in stale:
            admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
    return name
