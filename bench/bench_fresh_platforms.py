"""Fresh database to five migrated platforms with demo data (target ≤ 60 s).

Creates an empty database on the project's PostgreSQL server (embedded by default, or the
server of DATABASE_URL), runs the same three commands as `make run`, and drops it.
Prints one JSON line.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))

from db import embedded_database_url  # noqa: E402


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    server_url = os.environ.get("DATABASE_URL") or embedded_database_url()
    name = f"bench_fresh_{os.getpid()}"
    admin_url = with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": with_database(server_url, name),
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.dev",
    }
    steps = (["migrate_schemas", "--shared", "-v0"], ["platforms_sync"], ["demo_data"])
    try:
        start = time.perf_counter()
        for step in steps:
            t0 = time.perf_counter()
            subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(f"{step[0]}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        elapsed = time.perf_counter() - start
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "name": "fresh_db_to_five_platforms_with_demo",
                "value": round(elapsed, 1),
                "unit": "s",
                "target": 60,
            }
        )
    )


if __name__ == "__main__":
    main()
