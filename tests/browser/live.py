"""The app served from a thread on the test's own database connection, for browser tests.

Every request runs on the test's connection, inside the transaction that pytest-django's
``db`` rolls back at the end: the sessions, ``last_login`` and django-axes access logs that
signing in writes never reach the shared, committed test database. (pytest-django's
``live_server`` would force ``transactional_db``, whose flush empties the public schema's
platform table and breaks every later test.) Requests are therefore handled one at a time,
and the test body itself makes no database query while a request is in flight.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import close_old_connections, connections
from playwright.sync_api import expect

from organisms.demo import DEMO_PASSWORD


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _SharedConnectionServer(ThreadedWSGIServer):
    """Each request thread uses the test's connection (``connections_override``)."""

    def _close_connections(self):
        # The shared connection holds the test's transaction: it must stay open.
        pass


class Serialized:
    """One request at a time on the shared connection; nothing once the test is over.

    ``lock`` is also taken by a test that queries the database while the server is up."""

    def __init__(self, app, connection):
        self.app = app
        self.connection = connection  # the test's connection, which the requests use
        self.lock = threading.Lock()
        self.closed = False

    def __call__(self, environ, start_response):
        with self.lock:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"stopped"]
            response = self.app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()

    def close(self) -> None:
        with self.lock:
            self.closed = True


@contextlib.contextmanager
def serve_on_test_connection() -> Iterator[tuple[int, Serialized]]:
    """(port on 127.0.0.1, the serialized app) for the duration of the block."""
    connection = connections["default"]
    connection.ensure_connection()
    # Django closes "old" connections at each request's start and end; this one is in the
    # test's transaction, so it must outlive the requests (as Django's test client does).
    detached = [
        signal
        for signal in (signals.request_started, signals.request_finished)
        if signal.disconnect(close_old_connections)
    ]
    connection.inc_thread_sharing()
    app = Serialized(StaticFilesHandler(WSGIHandler()), connection)
    server = _SharedConnectionServer(
        ("127.0.0.1", 0),
        _QuietHandler,
        allow_reuse_address=False,
        connections_override={"default": connection},
    )
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, name="live-platforms", daemon=True)
    thread.start()
    try:
        yield server.server_address[1], app
    finally:
        app.close()  # waits for a request in progress, refuses later ones
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        connection.dec_thread_sharing()
        for signal in detached:
            signal.connect(close_old_connections)


def beside(app: Serialized, work):
    """``work()``'s result, run on the test's connection from a thread of its own (Playwright
    keeps an event loop in the test's thread, where Django refuses database access) and
    while no request is in flight."""
    from django.db import connections as handler

    result = []

    def run():
        # not read in the test's thread: inside Playwright's sync API, Django's
        # context-local connection handler would hand out a fresh connection
        handler["default"] = app.connection
        with app.lock:
            result.append(work())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if not result:
        raise RuntimeError("the database work beside the server did not finish")
    return result[0]


def run_jobs_beside(app: Serialized) -> int:
    """Run the queued jobs as the worker would (see ``beside``). Returns how many ran."""
    from tests.conftest import run_queued_jobs

    try:
        return beside(app, run_queued_jobs)
    except RuntimeError:
        return -1


# --- the browser side, shared by the browser tests ----------------------------------------------
CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SHOTS = os.environ.get("HARMONIA_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    """A screenshot to look at when HARMONIA_SCREENSHOTS names a folder."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def sign_in(browser, base: str, username: str, landing: str = "/", **context_options):
    """A new French browser context signed in as a demo ``username``, on its landing page."""
    context = browser.new_context(locale="fr-FR", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/comptes/connexion/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(f"{base}{landing}")
    return page
