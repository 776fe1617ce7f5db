"""Production smoke test (`make prod-smoke`): the documented topology on this machine.

nginx (Debian's package) terminates TLS for `harmonia.test` and `*.harmonia.test` with a
self-signed wildcard certificate and spreads requests over two gunicorn nodes; two
procrastinate workers serve the queue; all on the machine's PostgreSQL (127.0.0.1:5432, user
postgres) in a fresh database, with the production settings. A declaring journey runs
through the proxy over HTTPS: sign in as an organism user, open the ER sociaux dossier, save
cells, ask for a PDF; then one web node and one worker are killed (SIGKILL) and the journey
goes on: more saves (nginx passes them to the other node), a second PDF (made by the
surviving worker). At the end every saved value is in the database, both PDFs are made, no
request failed. Everything is torn down (processes, nginx, database), also when it fails,
and a run left behind by an interrupted one is cleaned first. Prints one JSON line.

    python -m ops.prod_smoke [--keep]     # --keep: leave the database and files for a look
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "prod-smoke"
PIDS = WORK / "pids"
# collected static files: kept from one run to the next (collectstatic then only adds what
# changed), like the virtualenv
STATIC = ROOT / "var" / "prod-smoke-static"
BASE_DOMAIN = "harmonia.test"
HTTPS_PORT = 18443
HTTP_PORT = 18080
WEB_PORTS = (18001, 18002)
DB_NAME = "harmonia_smoke"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
PASSWORD = "Harmonia-Demo-2024!"  # the demo accounts' (organisms/demo.py)  # noqa: S105
SAVES_BEFORE, SAVES_AFTER = 12, 12


def log(message: str) -> None:
    print(f"[prod-smoke {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine -------------------------------------------------------------------------------
def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    log("installing Debian's nginx")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return "/usr/sbin/nginx"


def certificate() -> tuple[Path, Path]:
    cert, key = WORK / "tls" / "wildcard.pem", WORK / "tls" / "wildcard.key"
    cert.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            shutil.which("openssl") or "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={BASE_DOMAIN}",
            "-addext",
            f"subjectAltName=DNS:{BASE_DOMAIN},DNS:*.{BASE_DOMAIN}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def resolve_test_domain_locally() -> None:
    """`*.harmonia.test` is no real name: this process resolves it to 127.0.0.1 (TLS, SNI and
    the Host header keep the real names)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and (host == BASE_DOMAIN or host.endswith(f".{BASE_DOMAIN}")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def nginx_config(cert: Path, key: Path, static_root: Path, media_root: Path) -> Path:
    site = (ROOT / "deploy" / "nginx" / "harmonia.conf").read_text()
    values = {
        "BASE_DOMAIN": BASE_DOMAIN,
        "UPSTREAM_SERVERS": "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=30s;" for port in WEB_PORTS
        ),
        "HTTP_PORT": f"127.0.0.1:{HTTP_PORT}",
        "HTTPS_PORT": f"127.0.0.1:{HTTPS_PORT}",
        "CERTIFICATE": str(cert),
        "CERTIFICATE_KEY": str(key),
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
    }
    for name, value in values.items():
        site = site.replace(f"@@{name}@@", value)
    if re.search(r"@@[A-Z_]+@@", site):
        raise RuntimeError("a placeholder of deploy/nginx/harmonia.conf was not replaced")
    prefix = WORK / "nginx"
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    (prefix / "harmonia.conf").write_text(site)
    main = prefix / "nginx.conf"
    # what /etc/nginx/nginx.conf gives on a server; here everything stays under WORK and the
    # workers run as this user (root here: they read the checkout's files)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n"
        f"  access_log {prefix}/logs/access.log;\n"
        f"  client_body_temp_path {prefix}/temp/body;\n  proxy_temp_path {prefix}/temp/proxy;\n"
        f"  fastcgi_temp_path {prefix}/temp/fcgi;\n  uwsgi_temp_path {prefix}/temp/uwsgi;\n"
        f"  scgi_temp_path {prefix}/temp/scgi;\n"
        f"  include {prefix}/harmonia.conf;\n"
        "}\n"
    )
    return main


# --- the database ------------------------------------------------------------------------------
def drop_database() -> None:
    with psycopg.connect(**PG, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def create_database() -> None:
    drop_database()
    with psycopg.connect(**PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')


def db() -> psycopg.Connection:
    return psycopg.connect(**{**PG, "dbname": DB_NAME}, autocommit=True)


# --- processes ---------------------------------------------------------------------------------
def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "harmonia.settings.production",
        "DJANGO_SECRET_KEY": "prod-smoke-" + "k" * 50,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}",
        "HARMONIA_BASE_DOMAIN": f"{BASE_DOMAIN}:{HTTPS_PORT}",
        "HARMONIA_VAR_DIR": str(WORK / "var"),
        "HARMONIA_STATIC_ROOT": str(STATIC),
        "HARMONIA_MEDIA_ROOT": str(WORK / "var" / "media"),
        "HARMONIA_EXTRACTIONS_ROOT": str(WORK / "var" / "extractions"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(WORK / "var" / "mail"),
        "HARMONIA_SECOND_OPINION": "0",
        "HARMONIA_LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "WAGTAILADMIN_BASE_URL": f"https://{BASE_DOMAIN}:{HTTPS_PORT}",
    }


def manage(*args: str) -> None:
    started = time.perf_counter()
    with (WORK / "setup.log").open("ab") as out:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: see {WORK / 'setup.log'}")
    log(f"manage.py {' '.join(args)}: {time.perf_counter() - started:.1f} s")


def collect_static() -> None:
    """`collectstatic` (about 100 s: WhiteNoise compresses every file again), skipped when
    neither the project's static files nor the locked packages changed since the last run."""
    digest = hashlib.sha256((ROOT / "requirements.lock").read_bytes())
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(ROOT)}:{path.stat().st_size}".encode())
            digest.update(path.read_bytes())
    stamp = STATIC / ".harmonia-smoke-stamp"
    manifest = STATIC / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        log("collectstatic: unchanged since the last run, skipped")
        return
    manage("collectstatic", "--noinput", "-v0")
    stamp.write_text(digest.hexdigest())


class Processes:
    """The smoke's processes, their pids written down so that a later run can end them."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen] = {}
        PIDS.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str], **kwargs) -> subprocess.Popen:
        logfile = (WORK / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )
        self.running[name] = process
        (PIDS / name).write_text(str(process.pid))
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # its whole group: gunicorn's workers too
        process.wait(timeout=30)
        (PIDS / name).unlink(missing_ok=True)

    def stop_all(self) -> None:
        for name in list(self.running):
            with suppress(Exception):
                self.kill(name, signal.SIGTERM)
        for name in list(self.running):
            with suppress(Exception):
                self.kill(name, signal.SIGKILL)


def end_leftovers() -> None:
    """Processes of an interrupted run (their pid files): ended, by their own pid."""
    if not PIDS.exists():
        return
    for pidfile in PIDS.iterdir():
        with suppress(ValueError, ProcessLookupError, PermissionError):
            pid = int(pidfile.read_text())
            log(f"ending {pidfile.name} ({pid}) left by an earlier run")
            os.killpg(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)


def wait_for(what: str, check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if check():
                return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


# --- the journey -------------------------------------------------------------------------------
class Journey:
    def __init__(self, cert: Path) -> None:
        self.http = requests.Session()
        # given with each request: a session's own `verify` loses to REQUESTS_CA_BUNDLE
        self.verify = str(cert)
        self.base = f"https://dhup.{BASE_DOMAIN}:{HTTPS_PORT}"
        self.requests = 0
        self.errors: list[str] = []

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        self.requests += 1
        headers = {"Referer": self.base + "/", **kwargs.pop("headers", {})}
        if method != "GET":
            headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
        response = self.http.request(
            method, self.base + path, headers=headers, timeout=120, verify=self.verify, **kwargs
        )
        if response.status_code >= 400:
            self.errors.append(f"{method} {path}: {response.status_code}")
        return response

    def sign_in(self, username: str) -> None:
        page = self.call("GET", "/comptes/connexion/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = self.call(
            "POST",
            "/comptes/connexion/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
            allow_redirects=False,
        )
        if done.status_code != 302:
            raise RuntimeError(f"sign-in refused ({done.status_code})")

    def open_dossier(self, campaign: int, document_type: int) -> int:
        response = self.call("GET", f"/declarations/ouvrir/{campaign}/{document_type}/")
        return int(re.search(r"/declarations/dossiers/(\d+)/", response.url).group(1))

    def save(self, dossier: int, name: str, text: str) -> None:
        response = self.call(
            "POST",
            f"/declarations/dossiers/{dossier}/enregistrer/",
            data=json.dumps({"entries": {name: text}}),
            headers={"Content-Type": "application/json"},
        )
        saved = response.json().get("saved", {}) if response.ok else {}
        if name not in saved:
            self.errors.append(f"save {name}: {response.status_code} {response.text[:200]}")

    def pdf(self, dossier: int) -> str:
        response = self.call("POST", f"/declarations/dossiers/{dossier}/pdf/")
        return response.url  # the status page

    def pdf_done(self, status_url: str, timeout: float = 300) -> dict:
        path = status_url.removeprefix(self.base) + "etat/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call("GET", path).json()
            if state["finished"]:
                return state
            time.sleep(1)
        raise RuntimeError(f"the PDF {status_url} was not made in {timeout:.0f} s")


def run(keep: bool) -> dict:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    WORK.mkdir(parents=True, exist_ok=True)
    end_leftovers()
    nginx = ensure_nginx()
    cert, key = certificate()
    resolve_test_domain_locally()
    processes = Processes()
    try:
        create_database()
        manage("migrate_schemas", "-v0")
        manage("platforms_sync", "--base-domain", BASE_DOMAIN)
        manage("demo_data")
        manage("demo_forms", "--only", "ER_SOCIAUX")
        collect_static()
        timings["setup_s"] = time.perf_counter() - started

        env = environment()
        for i, port in enumerate(WEB_PORTS, 1):
            processes.start(
                f"web{i}",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "harmonia.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "120",
                    "--access-logfile",
                    "-",
                    "--logger-class",
                    "harmonia.logs.GunicornJsonLogger",
                ],  # fmt: skip
                env=env,
            )
        for i in (1, 2):
            processes.start(
                f"worker{i}", [sys.executable, "manage.py", "procrastinate", "worker"], env=env
            )
        config = nginx_config(cert, key, STATIC, WORK / "var" / "media")
        subprocess.run([nginx, "-t", "-q", "-c", str(config)], check=True)  # noqa: S603
        processes.start("nginx", [nginx, "-c", str(config), "-g", "daemon off;"])

        journey = Journey(cert)
        health = f"https://{BASE_DOMAIN}:{HTTPS_PORT}/health/"
        for port in WEB_PORTS:  # each node answers on its own
            wait_for(
                f"web node :{port}",
                lambda port=port: (
                    requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).status_code == 200
                ),
            )
        wait_for(
            "two workers",
            lambda: (
                requests.get(health, verify=str(cert), timeout=5).json()["workers"]["alive"] >= 2
            ),
        )
        journey_started = time.perf_counter()

        with db() as conn:
            campaign, document_type = conn.execute(
                "SELECT c.id, t.id FROM dhup.workflow_campaign c, dhup.forms_cms_documenttype t "
                "WHERE c.exercise = 2024 AND t.code = 'ER_SOCIAUX' LIMIT 1"
            ).fetchone()
        journey.sign_in("organisme")
        dossier = journey.open_dossier(campaign, document_type)
        with db() as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT f.name FROM dhup.forms_cms_field f "
                    "JOIN dhup.workflow_dossier d ON d.form_version_id = f.version_id "
                    "WHERE d.id = %s AND f.kind = 'input' AND f.\"table\" = '' "
                    "AND f.data_type IN ('amount', 'integer') ORDER BY f.id LIMIT %s",
                    [dossier, SAVES_BEFORE + SAVES_AFTER],
                )
            ]
        expected = {name: 1000 + i for i, name in enumerate(names)}
        items = list(expected.items())
        for name, value in items[:SAVES_BEFORE]:
            journey.save(dossier, name, str(value))
        first_pdf = journey.pdf(dossier)
        first = journey.pdf_done(first_pdf)

        # a web node and a worker die in the middle of the journey
        processes.kill("web1")
        processes.kill("worker1")
        killed_at = journey.requests
        for name, value in items[SAVES_BEFORE:]:
            journey.save(dossier, name, str(value))
        second = journey.pdf_done(journey.pdf(dossier))
        timings["journey_s"] = time.perf_counter() - journey_started

        with db() as conn:
            values = conn.execute(
                'SELECT "values" FROM dhup.workflow_dossier WHERE id = %s', [dossier]
            ).fetchone()[0]
            pdfs = conn.execute(
                "SELECT status, length(content) FROM dhup.workflow_dossierexport "
                "WHERE dossier_id = %s ORDER BY id",
                [dossier],
            ).fetchall()
        lost = {n: v for n, v in expected.items() if values.get(n) != v}
        served = {
            name: sum(
                '"gunicorn.access"' in line
                for line in (WORK / f"{name}.log").read_text(errors="replace").splitlines()
            )
            for name in ("web1", "web2")
        }
        # requests nginx sent to the dead node and passed on to the other one
        refused = (WORK / "nginx" / "logs" / "error.log").read_text().count("Connection refused")
        body = requests.get(health, verify=str(cert), timeout=5).json()
        summary = {
            "name": "prod_smoke",
            "ok": (
                not journey.errors
                and not lost
                and [p[0] for p in pdfs] == ["done", "done"]
                # both nodes served (their JSON access logs say so), and nginx passed the
                # requests meant for the killed one to the other
                and min(served.values()) > 0
                and refused >= 1
            ),
            "requests": journey.requests,
            "errors": journey.errors,
            "saved": len(expected),
            "lost": lost,
            "killed_after_request": killed_at,
            "served_by": served,
            "passed_on_by_nginx": refused,
            "pdfs": [{"status": s, "bytes": n} for s, n in pdfs],
            "pdf_states": [first["status"], second["status"]],
            "health_after": {"status": body["status"], "queue": body["queue"]},
            **{k: round(v, 1) for k, v in timings.items()},
        }
    finally:
        processes.stop_all()
        if not keep:
            with suppress(Exception):
                drop_database()
            for sub in ("var", "nginx", "tls"):
                shutil.rmtree(WORK / sub, ignore_errors=True)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    return summary


def postgresql_here() -> bool:
    try:
        with psycopg.connect(**PG, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (WORK / "lock").open("w")
    try:  # one smoke at a time on a machine: a second would end the first one's processes
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another prod-smoke is running here: wait for it to finish")
        return 1
    if not postgresql_here():
        # said loudly, not failed: the smoke needs the machine's server, the suite does not
        reason = "no PostgreSQL server at 127.0.0.1:5432 (user postgres): smoke NOT run"
        log(reason)
        print(json.dumps({"name": "prod_smoke", "ok": None, "skipped": reason}))
        return 0
    summary = run(args.keep)
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
