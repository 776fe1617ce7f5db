"""Logs that several web nodes and workers can be read together by: a request id, the platform
(schema) and the user on every record, one JSON object per line when
``HARMONIA_LOG_FORMAT=json`` (the production default).

- :class:`RequestIdMiddleware` (first in ``MIDDLEWARE``) takes the proxy's ``X-Request-ID``
  (nginx sets it: deploy/nginx/harmonia.conf) or makes one, hands it back in the response's
  ``X-Request-ID`` header and keeps the request in a context variable for the log filter.
- :class:`ContextFilter` adds ``request_id``, ``platform`` and ``user_id`` to each record:
  the platform is the connection's schema at the time of the record, so a background job's
  lines carry the platform it runs in too; the user only once the request has loaded it
  (a log line never costs a query).
- :class:`JsonFormatter` writes the record as one JSON line.
- :class:`GunicornJsonLogger` writes gunicorn's access log as JSON lines with the same
  request id (``gunicorn --logger-class harmonia.logs.GunicornJsonLogger``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
# what is accepted from the proxy: anything else is replaced (no log injection)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")

_request = contextvars.ContextVar("harmonia_request", default=None)
_request_id = contextvars.ContextVar("harmonia_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def current_request():
    """The request being handled in this context (None in a job or a command): what a low
    layer that records an event (``tenants.security_events``) reads its user and address from."""
    return _request.get()


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind ``HARMONIA_PROXY_COUNT`` reverse proxies
    (nginx), the address the outermost of them saw, from X-Forwarded-For."""
    from django.conf import settings  # logs.py is read by the settings themselves

    hops = settings.HARMONIA_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        tokens = (_request.set(request), _request_id.set(request_id))
        try:
            response = self.get_response(request)
        finally:
            _request.reset(tokens[0])
            _request_id.reset(tokens[1])
        response[REQUEST_ID_HEADER] = request_id
        return response


def _schema() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", "") or ""
    except Exception:  # settings not loaded yet (a line logged while starting up)
        return ""


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a 4xx/5xx response after the middleware has returned: its
        # record names the request itself
        request = getattr(record, "request", None) or _request.get()
        record.request_id = getattr(request, "request_id", "") or _request_id.get()
        tenant = getattr(request, "tenant", None)
        record.platform = getattr(tenant, "schema_name", "") or _schema()
        user = getattr(request, "_cached_user", None)  # set once the request read its user
        record.user_id = getattr(user, "pk", None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, platform,
    user_id, request_id, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "platform": getattr(record, "platform", ""),
            "user_id": getattr(record, "user_id", None),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str, quiet: dict[str, str]) -> dict:
    """Django's ``LOGGING``: text (development, tests) or JSON lines (production)."""
    text = "%(asctime)s %(levelname)s %(name)s [%(platform)s %(request_id)s] %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "harmonia.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "harmonia.logs.JsonFormatter"},
            "text": {"format": text},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "json" if log_format == "json" else "text",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {name: {"level": lvl} for name, lvl in quiet.items()},
    }


try:  # gunicorn is a dependency, but this module is also read where it is not installed
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[misc,assignment]


class GunicornJsonLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's access log as JSON lines carrying the response's request id."""

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        headers = dict(resp.headers) if resp.headers else {}
        request_id = next(
            (v for k, v in headers.items() if k.lower() == REQUEST_ID_HEADER.lower()), ""
        )
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "host": environ.get("HTTP_HOST"),
            "status": resp.status_code if hasattr(resp, "status_code") else str(resp.status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": request_id,
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))
