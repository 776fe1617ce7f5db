"""The database switch: embedded PostgreSQL by default, any server given by DATABASE_URL."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from harmonia import db

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_server_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


def test_database_url_wins_and_embedded_server_is_not_started(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the embedded server must not start when DATABASE_URL is set")

    monkeypatch.setattr(db, "embedded_database_url", refuse)
    config = db.database_config({"DATABASE_URL": "postgresql://u:p@db.example:6543/harmonia"})
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 6543, "harmonia")
    assert config["ENGINE"] == "django_tenants.postgresql_backend"


def test_embedded_server_is_the_default(monkeypatch):
    monkeypatch.setattr(
        db, "embedded_database_url", lambda: "postgresql://postgres:@/postgres?host=/x"
    )
    config = db.database_config({})
    assert config["OPTIONS"]["host"] == "/x"


@pytest.mark.django_db
@pytest.mark.skipif("DATABASE_URL" in os.environ, reason="this run uses DATABASE_URL")
def test_this_run_uses_the_embedded_server_inside_the_project():
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = cursor.fetchone()[0]
    assert Path(data_directory) == db.DEFAULT_PGDATA
    assert db.DEFAULT_PGDATA.is_relative_to(ROOT)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(db.DEFAULT_PGDATA)], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "the embedded data directory must be git-ignored"


@pytest.mark.skipif(not local_server_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_real_server_given_by_database_url_is_used():
    env = {
        **os.environ,
        "DATABASE_URL": LOCAL_SERVER,
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.dev",
    }
    code = (
        "from django.db import connection\n"
        "cur = connection.cursor()\n"
        "cur.execute('SELECT inet_server_port(), current_database()')\n"
        "print(*cur.fetchone())\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "5432 postgres"


@pytest.mark.skipif(not local_server_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_the_platforms_install_on_a_real_server():
    import psycopg

    name = f"harmonia_test_install_{os.getpid()}"
    with psycopg.connect(LOCAL_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": LOCAL_SERVER.rsplit("/", 1)[0] + f"/{name}",
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.dev",
    }
    try:
        for command in (["migrate_schemas", "--shared", "-v0"], ["platforms_sync"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            hosts = conn.execute("SELECT domain FROM public.tenants_domain ORDER BY 1").fetchall()
            home = conn.execute("SELECT title FROM oph.wagtailcore_page WHERE depth = 2").fetchall()
    finally:
        with psycopg.connect(LOCAL_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert [h for (h,) in hosts] == [
        "coop.localhost",
        "dhup.localhost",
        "epl.localhost",
        "esh.localhost",
        "localhost",
        "oph.localhost",
    ]
    assert home == [("Harmonia — Fédération des OPH",)]
