"""What every page shows: the current version (footer), on a platform the maintenance windows
CGLLS approved for it (banner from 7 days before the start until the end), and on the public host
the operator's space navigation for its staff and correspondents.

Both tables exist only in the public schema (a shared app). One query reads both, naming
``public.`` explicitly so that it works from any platform's request whatever its search path,
and costs a single query per page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import PUBLIC_ROLES, TRACKER_ROLES, Role
from operations.models import MaintenanceStatus, MaintenanceWindow, Release

BANNER_AHEAD = timedelta(days=7)
# the operator's own staff (the exit drills' reports are theirs)
STAFF_ROLES = frozenset({Role.HOTLINE, Role.MAINTENANCE})

_RELEASE, _WINDOW = Release._meta.db_table, MaintenanceWindow._meta.db_table
# Table names come from the models, never from input; values are parameters.
_SQL = (
    "(SELECT 0 AS kind, number AS text, '' AS features, NULL::timestamptz AS starts_at, "  # noqa: S608
    f"NULL::timestamptz AS ends_at FROM public.{_RELEASE} WHERE published "
    "ORDER BY date DESC, id DESC LIMIT 1) "
    "UNION ALL "
    f"(SELECT 1, reason, features, starts_at, ends_at FROM public.{_WINDOW} "
    "WHERE status = %s AND %s = ANY(platforms) AND starts_at <= %s AND ends_at > %s "
    "ORDER BY starts_at)"
)


def service_state(code: str | None, now: datetime | None = None) -> tuple[str, list]:
    """(current published version or "", windows to announce on platform ``code`` at ``now``)."""
    now = now or timezone.now()
    version, windows = "", []
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [MaintenanceStatus.APPROVED, code or "", now + BANNER_AHEAD, now])
        for kind, text, features, starts_at, ends_at in cursor.fetchall():
            if kind == 0:
                version = text
            else:
                windows.append(
                    SimpleNamespace(
                        reason=text, features=features, starts_at=starts_at, ends_at=ends_at
                    )
                )
    windows.sort(key=lambda window: window.starts_at)
    return version, windows


# The operator's space menu: (label, URL name, the URL names it is current for, who sees it).
# Each entry's roles are those its view admits (operations/views*.py), so no link leads to a 403.
OPERATOR_MENU = (
    ("Accueil", "home", ("home",), TRACKER_ROLES),
    (
        "Anomalies",
        "operations:anomaly_list",
        (
            "operations:anomaly_list",
            "operations:anomaly_create",
            "operations:anomaly_detail",
            "operations:anomaly_details",
            "operations:anomaly_change",
            "operations:reclassification_request",
            "operations:reclassification_decide",
        ),
        TRACKER_ROLES,
    ),
    (
        "Synthèse mensuelle",
        "operations:anomaly_synthesis",
        ("operations:anomaly_synthesis",),
        TRACKER_ROLES,
    ),
    (
        "Correspondants",
        "operations:correspondent_list",
        ("operations:correspondent_list", "operations:correspondent_edit"),
        PUBLIC_ROLES,
    ),
    (
        "Hotline",
        "operations:hotline_list",
        (
            "operations:hotline_list",
            "operations:hotline_create",
            "operations:hotline_edit",
            "operations:hotline_report",
        ),
        PUBLIC_ROLES,
    ),
    (
        "Rapports d'activité",
        "operations:activity_list",
        ("operations:activity_list",),
        PUBLIC_ROLES,
    ),
    (
        "Évolutions",
        "operations:evolution_list",
        (
            "operations:evolution_list",
            "operations:evolution_synthesis",
            "operations:evolution_detail",
            "operations:evolution_decide",
            "operations:evolution_deliver",
        ),
        PUBLIC_ROLES,
    ),
    (
        "Intégration des formulaires",
        "operations:workload_list",
        (
            "operations:workload_list",
            "operations:workload_report",
            "operations:workload_send",
            "operations:workload_delete",
        ),
        PUBLIC_ROLES,
    ),
    (
        "Versions",
        "operations:release_list",
        (
            "operations:release_list",
            "operations:release_publish",
            "operations:release_edit",
            "operations:version_document",
        ),
        PUBLIC_ROLES,
    ),
    (
        "Maintenances",
        "operations:maintenance_list",
        ("operations:maintenance_list", "operations:maintenance_decide"),
        PUBLIC_ROLES,
    ),
    (
        "Sécurité",
        "operations:security_events",
        (
            "operations:security_events",
            "operations:security_rules",
            "operations:security_rule_create",
            "operations:security_rule_edit",
        ),
        STAFF_ROLES | {Role.CGLLS},  # CGLLS reads (operations/views_security.py)
    ),
    (
        "Réversibilité",
        "reversibility:drill_list",
        ("reversibility:drill_list", "reversibility:drill_detail"),
        STAFF_ROLES,
    ),
)


def operator_menu(request) -> list[SimpleNamespace]:
    """The entries of the operator's space menu the signed-in user may follow, the current
    one marked; empty for anyone else."""
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    if role not in TRACKER_ROLES:
        return []
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    return [
        SimpleNamespace(label=label, url=reverse(name), current=current in names)
        for label, name, names, roles in OPERATOR_MENU
        if role in roles
    ]


def service(request):
    tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
    code = None
    if tenant is not None and tenant.schema_name != "public":
        code = tenant.code
    version, windows = service_state(code)
    return {
        "harmonia_version": version,
        "maintenance_windows": windows,
        "operator_menu": operator_menu(request) if code is None else [],
    }
