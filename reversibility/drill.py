"""The exit drill (« test de la stratégie de sortie », CCTP 3.6 and 3.7.3 §3), at least every
two years: the whole instance exported as a successor would receive it, imported into a new
instance built from scratch in a scratch database of the same server, and compared table by
table, column by column; a dated report (counts per table, differences, durations, the
technical accesses to revoke at the exit) is stored for the operator's space.

The export and the source's fingerprints are read in one REPEATABLE READ transaction, so
they see the same data while the service keeps running. The scratch database is dropped at
the end, whatever happened; a failed drill stores its report too.
"""

from __future__ import annotations

import getpass
import hashlib
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.template.loader import render_to_string
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from declarations.models import ApiToken
from reversibility.archive import (
    EXCLUDED,
    PUBLIC,
    _m2m_fields,
    export_archive,
    import_archive,
    platform_codes,
    scope_models,
)
from reversibility.models import DrillReport
from tenants.backups import media_files
from tenants.dbaccess import readonly_roles
from tenants.services import platforms_sync

SCRATCH_PREFIX = "exercice_reversibilite_"
OPERATOR_ROLES = (Role.HOTLINE, Role.MAINTENANCE)
# what the export leaves out by design (README « Reversibility »), said in the report
NOT_TRANSFERRED = (
    "types de contenu et permissions (recréés par les migrations, désignés par clé naturelle)",
    "sessions, verrouillages après échecs de connexion, sessions d'édition du CMS",
    "file des tâches (procrastinate) et cache partagé",
    "index de recherche du CMS (reconstruit après l'import)",
    "noms d'hôte des plateformes (platforms_sync --base-domain sur la nouvelle instance)",
)


STEP_LABELS = {
    "export": "Export de l'instance (avec les empreintes de l'origine)",
    "new_instance": "Nouvelle instance (migrations, plateformes)",
    "import": "Import et empreintes de la nouvelle instance",
    "total": "Total",
}


class DrillError(Exception):
    """The drill failed (French message); its report is stored all the same."""


@dataclass
class _Table:
    schema: str
    label: str
    table: str
    rows: int
    columns: dict[str, str]


@dataclass
class _Run:
    started_at: object
    run_by: str
    durations: dict[str, float] = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    target: dict = field(default_factory=dict)
    source_media: dict[str, str] = field(default_factory=dict)
    target_media: dict[str, str] = field(default_factory=dict)
    scratch: str = ""
    archive_mb: float = 0.0
    scratch_dropped: bool = False
    error: str = ""


# --- fingerprints -----------------------------------------------------------------------------


CONTENT_TYPE_KEY = "(SELECT c.app_label || '.' || c.model FROM {types} c WHERE c.id = {column})"
PERMISSION_KEY = (
    "(SELECT p.codename || '.' || c.app_label || '.' || c.model FROM {permissions} p "
    "JOIN {types} c ON c.id = p.content_type_id WHERE p.id = {column})"
)


def _column_expression(schema: str, f) -> str:
    """A column as text, content types and permissions by natural key (their ids are the
    instance's own). Names come from the model registry and the platforms, never from input."""
    column = f'"t"."{f.column}"'
    types = f'"{schema}".django_content_type'
    if f.is_relation and f.related_model is ContentType:
        return CONTENT_TYPE_KEY.format(types=types, column=column)
    if f.is_relation and f.related_model is Permission:
        return PERMISSION_KEY.format(
            permissions=f'"{schema}".auth_permission', types=types, column=column
        )
    return f"{column}::text"


def _models_and_links(schema: str):
    """Every exported model of the schema and the link tables of its many-to-many fields."""
    for model in scope_models(schema):
        yield model
        for f in _m2m_fields(model):
            yield f.remote_field.through


def fingerprints(schemas: list[str]) -> dict[str, dict]:
    """Row count and a digest of each column of every exported table of ``schemas``, in
    primary-key order: ``{"schema/table": {...}}``."""
    found = {}
    with connection.cursor() as cursor:
        for schema in schemas:
            for model in _models_and_links(schema):
                meta = model._meta
                fields = list(meta.local_concrete_fields)
                if meta.auto_created:
                    # a many-to-many link table: its own ids are not kept by the import (nor
                    # meant to be); what counts is the set of pairs, compared as such
                    fields = [f for f in fields if not f.primary_key]
                    pair = " || '|' || ".join(_column_expression(schema, f) for f in fields)
                    names = ["+".join(f.column for f in fields)]
                    digests = f"md5(string_agg({pair}, ',' ORDER BY {pair}))"
                else:
                    names = [f.column for f in fields]
                    digests = ", ".join(
                        f"md5(string_agg(coalesce(md5({_column_expression(schema, f)}), '-'), "
                        f'\'\' ORDER BY "t"."{meta.pk.column}"))'
                        for f in fields
                    )
                cursor.execute(
                    f'SELECT count(*), {digests} FROM "{schema}"."{meta.db_table}" t'  # noqa: S608
                )
                row = cursor.fetchone()
                key = f"{schema}/{meta.db_table}"
                found[key] = {
                    "schema": schema,
                    "label": meta.label_lower,
                    "table": meta.db_table,
                    "rows": row[0],
                    "columns": {n: d or "" for n, d in zip(names, row[1:], strict=True)},
                }
    return found


def _media_digests(schemas: list[str], root: Path | None = None) -> dict[str, str]:
    """Relative path → SHA-256 of the media files the platforms' tables refer to."""
    root = Path(root or settings.MEDIA_ROOT)
    found = {}
    for schema in schemas:
        if schema == PUBLIC:
            continue
        with schema_context(schema):
            for path in media_files(schema):
                found[path.relative_to(root).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


def compare(source: dict, target: dict, source_media: dict, target_media: dict) -> list[dict]:
    """Every difference between the two instances, one line each."""
    differences = []
    for key in sorted(set(source) | set(target)):
        a, b = source.get(key), target.get(key)
        if a is None or b is None:
            differences.append(
                {
                    "what": key,
                    "detail": "table absente de la nouvelle instance"
                    if b is None
                    else "table absente de l'instance d'origine",
                }
            )
            continue
        columns = sorted(c for c in a["columns"] if a["columns"][c] != b["columns"].get(c))
        if a["rows"] != b["rows"] or columns:
            detail = f"{a['rows']} lignes à l'origine, {b['rows']} importées"
            if columns:
                detail += f" ; colonnes différentes : {', '.join(columns)}"
            differences.append({"what": key, "detail": detail})
    for name in sorted(set(source_media) | set(target_media)):
        if source_media.get(name) != target_media.get(name):
            state = "absent" if name not in target_media else "contenu différent"
            differences.append({"what": f"média {name}", "detail": state})
    return differences


# --- the technical accesses to revoke at the exit ---------------------------------------------


def technical_accesses(codes: list[str]) -> dict[str, list[dict]]:
    """Read-only database roles, active API tokens, operator and administrator accounts."""
    tokens, accounts = [], []
    for schema in [PUBLIC, *codes]:
        with schema_context(schema):
            staff = User.objects.filter(is_active=True)
            staff = (
                staff.filter(role__in=OPERATOR_ROLES) | staff.filter(is_superuser=True)
                if schema == PUBLIC
                else staff.filter(is_superuser=True)
            )
            for user in staff.order_by("username"):
                accounts.append(
                    {
                        "schema": schema,
                        "username": user.username,
                        "role": user.get_role_display(),
                        "superuser": user.is_superuser,
                        "last_login": user.last_login,
                    }
                )
            if schema == PUBLIC:
                continue
            for token in ApiToken.objects.active().select_related("user").order_by("pk"):
                tokens.append(
                    {
                        "schema": schema,
                        "prefix": token.prefix,
                        "name": token.name,
                        "scope": token.get_scope_display(),
                        "username": token.user.username,
                        "created_at": token.created_at,
                        "last_used_at": token.last_used_at,
                    }
                )
    roles = [{"role": role, "schema": schema} for role, schema in readonly_roles()]
    return {"database_roles": roles, "api_tokens": tokens, "accounts": accounts}


# --- the scratch database ---------------------------------------------------------------------


def _admin() -> psycopg.Connection:
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


def _use(name: str) -> None:
    for conn in connections.all():
        conn.close()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def _drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _timed(run: _Run, step: str):
    class _Timer:
        def __enter__(self):
            self.start = time.monotonic()

        def __exit__(self, *exc):
            run.durations[step] = round(time.monotonic() - self.start, 2)

    return _Timer()


# --- the drill --------------------------------------------------------------------------------


def _export(run: _Run, archive: Path, schemas: list[str]) -> None:
    """The archive and the source's fingerprints from one snapshot of the database."""
    with _timed(run, "export"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        export_archive(archive, with_credentials=True)
        connection.set_schema_to_public()
        run.source = fingerprints(schemas)
        run.source_media = _media_digests(schemas)
    connection.set_schema_to_public()


def _rebuild(run: _Run, archive: Path, schemas: list[str], media: Path) -> None:
    """A new instance in the scratch database: migrations, platforms, then the archive."""
    source = settings.DATABASES["default"]["NAME"]
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{run.scratch}"')
    _use(run.scratch)
    try:
        with _timed(run, "new_instance"):
            call_command("migrate_schemas", interactive=False, verbosity=0)
            platforms_sync(base_domain=settings.HARMONIA_BASE_DOMAIN)
        with _timed(run, "import"), override_settings(MEDIA_ROOT=str(media)):
            import_archive(archive)
            connection.set_schema_to_public()
            run.target = fingerprints(schemas)
            run.target_media = _media_digests(schemas, media)
    finally:
        connection.set_schema_to_public()
        _use(source)


def reversibility_drill(*, run_by: str = "") -> DrillReport:
    """Run the drill and store its report (also when it fails: then DrillError is raised
    after the report is stored)."""
    now = timezone.now()
    source_name = settings.DATABASES["default"]["NAME"]
    run = _Run(started_at=now, run_by=run_by or getpass.getuser())
    run.scratch = f"{SCRATCH_PREFIX}{now:%Y%m%d_%H%M%S}_{source_name}"[:63]
    codes = platform_codes()
    schemas = [PUBLIC, *codes]
    connection.set_schema_to_public()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="exercice-reversibilite-") as folder:
            archive = Path(folder) / "instance.zip"
            _export(run, archive, schemas)
            run.archive_mb = round(archive.stat().st_size / 1e6, 1)
            _rebuild(run, archive, schemas, Path(folder) / "medias")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, then raised
        run.error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}"
    finally:
        try:
            _drop(run.scratch)
            run.scratch_dropped = True
        except psycopg.Error as exc:
            run.error += f"\nBase temporaire {run.scratch} non supprimée : {exc}"
        if settings.DATABASES["default"]["NAME"] != source_name:
            _use(source_name)
        connection.set_schema_to_public()
    run.durations["total"] = round(time.monotonic() - started, 2)
    report = _store(run, codes)
    if run.error:
        raise DrillError(
            f"L'exercice de réversibilité a échoué (rapport n° {report.pk}) : "
            f"{run.error.splitlines()[0]}"
        )
    return report


def _store(run: _Run, codes: list[str]) -> DrillReport:
    differences = (
        compare(run.source, run.target, run.source_media, run.target_media) if not run.error else []
    )
    tables = [
        {
            "key": key,
            "schema": entry["schema"],
            "table": entry["table"],
            "rows": entry["rows"],
            "imported": run.target.get(key, {}).get("rows"),
        }
        for key, entry in sorted(run.source.items())
    ]
    if run.error:
        outcome = DrillReport.Outcome.FAILED
    elif differences:
        outcome = DrillReport.Outcome.DIFFERENCES
    else:
        outcome = DrillReport.Outcome.SUCCESS
    summary = {
        # a list: JSON objects stored in PostgreSQL lose their keys' order
        "durations": [
            {"step": step, "label": STEP_LABELS[step], "seconds": seconds}
            for step, seconds in run.durations.items()
        ],
        "tables": tables,
        "differences": differences,
        "media_files": len(run.source_media),
        "archive_mb": run.archive_mb,
        "scratch_database": run.scratch,
        "scratch_dropped": run.scratch_dropped,
        "not_transferred": list(NOT_TRANSFERRED) + sorted(EXCLUDED),
        "accesses": technical_accesses(codes),
    }
    report = DrillReport(
        started_at=run.started_at,
        finished_at=timezone.now(),
        outcome=outcome,
        run_by=run.run_by[:150],
        tables=len(tables),
        rows=sum(t["rows"] for t in tables),
        differences=len(differences),
        error=run.error,
        summary=summary,
    )
    summary_json = _jsonable(summary)
    report.summary = summary_json
    context = {"report": report, "summary": summary_json}
    report.markdown = render_to_string("reversibility/drill_report.md", context)
    from weasyprint import HTML

    html = render_to_string("reversibility/drill_report_pdf.html", context)
    report.pdf = HTML(string=html).write_pdf()
    report.save()
    return report


def _jsonable(value):
    """Dates as ISO text (the summary is a JSON column)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    return value
