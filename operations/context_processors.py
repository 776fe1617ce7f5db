"""What every page shows: the current version (footer) and, on a platform, the maintenance
windows announced for it (banner from 7 days before the start until the end).

Both tables exist only in the public schema (a shared app). One query reads both, naming
``public.`` explicitly so that it works from any platform's request whatever its search path,
and costs a single query per page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

from operations.models import MaintenanceWindow, Release

BANNER_AHEAD = timedelta(days=7)

_RELEASE, _WINDOW = Release._meta.db_table, MaintenanceWindow._meta.db_table
# Table names come from the models, never from input; values are parameters.
_SQL = (
    "(SELECT 0 AS kind, number AS text, NULL::timestamptz AS starts_at, "  # noqa: S608
    f"NULL::timestamptz AS ends_at FROM public.{_RELEASE} WHERE published "
    "ORDER BY date DESC, id DESC LIMIT 1) "
    "UNION ALL "
    f"(SELECT 1, reason, starts_at, ends_at FROM public.{_WINDOW} "
    "WHERE %s = ANY(platforms) AND starts_at <= %s AND ends_at > %s ORDER BY starts_at)"
)


def service_state(code: str | None, now: datetime | None = None) -> tuple[str, list]:
    """(current published version or "", windows to announce on platform ``code`` at ``now``)."""
    now = now or timezone.now()
    version, windows = "", []
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [code or "", now + BANNER_AHEAD, now])
        for kind, text, starts_at, ends_at in cursor.fetchall():
            if kind == 0:
                version = text
            else:
                windows.append(SimpleNamespace(reason=text, starts_at=starts_at, ends_at=ends_at))
    windows.sort(key=lambda window: window.starts_at)
    return version, windows


def service(request):
    tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
    code = None
    if tenant is not None and tenant.schema_name != "public":
        code = tenant.code
    version, windows = service_state(code)
    return {"harmonia_version": version, "maintenance_windows": windows}
