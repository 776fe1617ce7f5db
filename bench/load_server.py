"""The load test's database copy and web server: made for one run, removed after it.

The copy is ``CREATE DATABASE … TEMPLATE`` of the suite's test database (tests/dbbuild.py
builds it when missing), on the server the other benchmarks use (site/db.py: DATABASE_URL
or the embedded PostgreSQL). The server is ``manage.py serve --no-worker``: gunicorn with
several sync workers, as production runs it, on a free port of the loopback. Both are
removed when the run ends, also when it fails; what an interrupted run left (its pid file,
the copy under its fixed name) is removed first by the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from declarations_env import ROOT  # first: sets Django up with the test settings

from tests.dbbuild import _admin_connection, database_name, ensure_database, use_database
from tests.reversibility.instances import copy_database, drop_database

WORK = ROOT / "var" / "bench-load"
PIDFILE = WORK / "server.pid"
# one run at a time per checkout (the lock below), whichever database server it uses
COPY = f"bench_load_{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"


@contextmanager
def one_run():
    """One load test at a time on this checkout; SIGTERM ends it through its ``finally``s."""
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (WORK / "lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("another bench_load is running in this checkout") from None

    def stop(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        _end_leftover_server()
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        lock.close()


@contextmanager
def database_copy():
    """Use a copy of the suite's test database (dropped at the end); yields its URL."""
    source = database_name()
    ensure_database(source)
    copy_database(source, COPY)
    try:
        use_database(COPY)
        yield _database_url(COPY)
    finally:
        use_database(source)  # closes this process's connections to the copy
        with suppress(Exception):
            drop_database(COPY)


def _database_url(name: str) -> str:
    """The URL of database ``name`` on the server site/db.py chose."""
    from harmonia.db import embedded_database_url

    url = os.environ.get("DATABASE_URL") or embedded_database_url()
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resolve_localhost_platforms() -> None:
    """``dhup.localhost`` is no name this machine's resolver knows (browsers resolve
    ``*.localhost`` themselves): this process resolves it to the loopback, the Host header
    keeps the platform's name."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


@contextmanager
def web_server(database_url: str, workers: int):
    """gunicorn (``manage.py serve``) on the copy; yields its port, pid and log file. Its
    whole process group (serve, gunicorn's master and workers) is killed at the end."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-load-", dir=WORK))
    env = {
        **os.environ,
        # the suite's settings (those the test database's passwords were hashed with), served
        # as production serves: gunicorn's sync workers, JSON logs, DEBUG off
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.test",
        "DATABASE_URL": database_url,
        "HARMONIA_BASE_DOMAIN": "localhost",
        "HARMONIA_VAR_DIR": str(folder / "var"),
        "HARMONIA_MEDIA_ROOT": str(folder / "var" / "media"),
        "HARMONIA_LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        # every user signs in from this one address, and the editor's token imports as fast
        # as it can: the rate limits (README "Configuration") would refuse the test itself
        "HARMONIA_RATE_LOGIN_IP": "0",
        "HARMONIA_RATE_LOGIN_USERNAME": "0",
        "HARMONIA_RATE_API_TOKEN": "0",
        "HARMONIA_RATE_API_IP": "0",
    }
    log = folder / "server.log"
    command = [
        sys.executable, "manage.py", "serve", "--no-worker",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    PIDFILE.write_text(str(process.pid))
    try:
        _wait_healthy(port, process, log)
        yield port, process.pid, log
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with suppress(ProcessLookupError):  # whatever of the group is still there
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        PIDFILE.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the web server (serve, gunicorn and its workers) and by the
    database server's backends serving the copy (none found on a remote server). Empty
    without psutil (which pgserver installs)."""
    try:
        import psutil
    except ImportError:
        return {}

    def used(process) -> float:
        with suppress(psutil.Error):
            times = process.cpu_times()
            return times.user + times.system
        return 0.0

    server = psutil.Process(server_pid)
    web = used(server) + sum(used(p) for p in server.children(recursive=True))
    database = 0.0
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {COPY} " in f"{title} ":
            database += used(process)
    return {"web": web, "database": database}


def _wait_healthy(port: int, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start:\n{log.read_text()[-3000:]}")
        with suppress(requests.RequestException):
            if requests.get(f"http://localhost:{port}/health/", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _end_leftover_server() -> None:
    """What a run killed before its ``finally``s left: its server (the pid file), its
    server's folder and its database copy."""
    with suppress(FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pid = int(PIDFILE.read_text())
        print(f"bench_load: ending the server {pid} an earlier run left", file=sys.stderr)
        os.killpg(pid, signal.SIGKILL)
    PIDFILE.unlink(missing_ok=True)
    for folder in WORK.glob("bench-load-*"):
        shutil.rmtree(folder, ignore_errors=True)
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
