"""Fresh database to five migrated platforms with demo data (target ≤ 60 s).

Creates an empty database on the project's PostgreSQL server (the embedded one by default,
or the server of DATABASE_URL), points DATABASE_URL at it and runs the three commands of
`make run` as subprocesses, timing them together:

    manage.py migrate_schemas --shared -v0
    manage.py platforms_sync
    manage.py demo_data

then checks the result and drops the database. Prints exactly one JSON line on stdout;
everything else (the commands' own output included) goes to stderr.

Usage, from the repository root: ``.venv/bin/python bench/bench_fresh_platforms.py``
(also run by ``make bench``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
NAME = "fresh_db_to_five_platforms_with_demo"
TARGET_SECONDS = 60
STEPS = (
    ("migrate_schemas", "--shared", "-v0"),
    ("platforms_sync",),
    ("demo_data",),
)
STEP_TIMEOUT_SECONDS = 900
EXPECTED_PLATFORMS = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_url() -> str:
    """The project's server: DATABASE_URL, else the embedded PostgreSQL (started if needed)."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    from harmonia.db import embedded_database_url

    return embedded_database_url()


def with_database(url: str, name: str) -> str:
    """The same server and options, another database (socket URIs keep their ?host=)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def psycopg_url(url: str) -> str:
    """dj-database-url accepts schemes libpq does not (postgres://, pgsql://...)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def run_step(step: tuple[str, ...], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *step],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=sys.stderr,  # diagnostics only: stdout carries the one JSON line
        timeout=STEP_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - start
    log(f"{' '.join(step)}: {elapsed:.1f} s")
    return elapsed


def check_result(url: str) -> None:
    """The run counts only if it produced five platforms, each with its demo organisms."""
    with psycopg.connect(url) as conn:
        schemas = [
            schema
            for (schema,) in conn.execute(
                "SELECT schema_name FROM public.tenants_platform "
                "WHERE kind IN ('ministry', 'federation') ORDER BY position"
            )
        ]
        if len(schemas) != EXPECTED_PLATFORMS:
            raise RuntimeError(f"expected {EXPECTED_PLATFORMS} platforms, found {schemas}")
        for schema in schemas:
            query = sql.SQL("SELECT count(*) FROM {}.organisms_organism").format(
                sql.Identifier(schema)
            )
            (count,) = conn.execute(query).fetchone()
            if not count:
                raise RuntimeError(f"platform {schema} has no demo organisms")
            log(f"  {schema:6} {count} organismes")


def main() -> int:
    server = psycopg_url(server_url())
    admin_url = with_database(server, "postgres")
    name = f"bench_fresh_{os.getpid()}_{int(time.time())}"
    database = sql.Identifier(name)
    url = with_database(server, name)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.dev",
    }

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(database))
    log(f"database {name} created on {urlsplit(server).hostname or 'a local socket'}")
    try:
        start = time.perf_counter()
        for step in STEPS:
            run_step(step, env)
        elapsed = time.perf_counter() - start
        check_result(url)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, RuntimeError) as exc:
        log(f"benchmark failed: {exc}")
        return 1
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        log(f"database {name} dropped")

    log(f"total: {elapsed:.1f} s (target {TARGET_SECONDS} s)")
    print(
        json.dumps(
            {"name": NAME, "value": round(elapsed, 1), "unit": "s", "target": TARGET_SECONDS}
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
