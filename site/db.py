"""Database selection: a real server from ``DATABASE_URL``, else an embedded PostgreSQL.

The embedded server (the ``pgserver`` package, PostgreSQL 16) keeps its data directory
inside the checkout (``var/pgdata``, git-ignored) so that a fresh machine needs no
database server at all. It is left running after the process exits (``cleanup_mode=None``)
so that the web server, the worker and management commands share it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = PROJECT_DIR / "var" / "pgdata"
ENGINE = "django_tenants.postgresql_backend"


def embedded_database_url(pgdata: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its socket URI."""
    pgdata = Path(pgdata or os.environ.get("HARMONIA_PGDATA") or DEFAULT_PGDATA)
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver warns when XDG_RUNTIME_DIR is unset; harmless here.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri("postgres")


def database_config(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return Django's ``DATABASES['default']`` for this environment."""
    environ = os.environ if environ is None else environ
    url = environ.get("DATABASE_URL") or embedded_database_url()
    config = dj_database_url.parse(url, conn_max_age=int(environ.get("DB_CONN_MAX_AGE", "60")))
    config["ENGINE"] = ENGINE
    config["CONN_HEALTH_CHECKS"] = True
    return config
