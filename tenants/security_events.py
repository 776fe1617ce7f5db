"""Recording security events (événements de sécurité) from any layer, on any platform.

``security_event_record(kind, detail=…)`` is the one write path of ``SecurityEvent``: the low
layers where things happen (accounts' sign-in, ``harmonia.ratelimit``, the upload guard's
callers in ``forms_cms`` and ``organisms``, the API tokens and XML imports in
``declarations``, ``partners``, the read-only database roles here) call it; the operator's
alert rules and screen (``operations``, the top layer) read the table.

Recording never gets in the way of the request that triggers it: one INSERT into the public
schema (a platform request reaches it through its search path), the platform, user, address
and request id taken from the current request (``harmonia.logs.current_request``) when the
caller gives none, and any database error swallowed and logged. Inside a transaction the
INSERT runs in a savepoint, so a failed INSERT cannot break the caller's transaction; an event
recorded inside a transaction that is later rolled back is rolled back with it, so callers
record where the refusal is turned into an answer, not inside their atomic writes.
Alerts are not evaluated here (that would cost the request more queries): a periodic job of
``operations`` reads the new events every minute.
"""

from __future__ import annotations

import ipaddress
import logging

from django.db import DatabaseError, connection, transaction
from django.utils.functional import empty
from harmonia.logs import client_ip, current_request, current_request_id
from harmonia.workbook_safety import WorkbookFileError, WorkbookUnreadable

from tenants.models import SecurityEvent

logger = logging.getLogger(__name__)

Kind = SecurityEvent.Kind


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _known_user(request):
    """The request's user if already loaded: never a query of its own (a lazy user not yet
    read, as in the rate limit before the view, stays unread)."""
    user = getattr(request, "__dict__", {}).get("user") if request is not None else None
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user


def security_event_record(
    kind: str,
    *,
    detail: str = "",
    username: str | None = None,
    ip: str | None = None,
    platform: str | None = None,
) -> SecurityEvent | None:
    """Record one event; the row, or None when it could not be written (logged, never
    raised). ``username``/``ip``/``platform`` default to the current request's user and
    address and to the connection's schema."""
    request = current_request()
    if username is None:
        user = _known_user(request)
        username = user.get_username() if user is not None and user.is_authenticated else ""
    if ip is None and request is not None:
        ip = client_ip(request)
    event = SecurityEvent(
        kind=kind,
        platform=(platform if platform is not None else getattr(connection, "schema_name", ""))[
            :63
        ],
        username=(username or "")[:150],
        ip=_valid_ip(ip) if ip else None,
        detail=(detail or "")[:500],
        request_id=current_request_id()[:128],
    )
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: a failure leaves the caller's intact
                event.save(force_insert=True)
        else:
            event.save(force_insert=True)
    except DatabaseError:
        logger.exception("security event not recorded: %s", kind)
        return None
    return event


def upload_refused_record(error: WorkbookFileError, *, filename: str, what: str) -> None:
    """A workbook the upload guard (``harmonia.workbook_safety``) refused for what it holds
    (a zip bomb, a DOCTYPE, macros, links to other files, OLE or ActiveX, an extent beyond
    the caps): recorded by the guard's callers where they turn the refusal into a message.
    An empty, damaged or non-workbook file (``WorkbookUnreadable``) is a mistake, not an
    attack: not recorded."""
    if isinstance(error, WorkbookUnreadable):
        return
    security_event_record(
        Kind.UPLOAD_REFUSED, detail=f"{what} « {filename[:100]} » : {error.message}"
    )
