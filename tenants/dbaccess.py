"""Read-only PostgreSQL login roles, one platform schema each (operators' database access).

A role made here can log in, use its platform's schema and SELECT its tables (present and
future), and nothing else: it is not granted anything on the public schema, the template or the
other platforms' schemas (django-tenants creates those schemas without any grant to PUBLIC, and
tables are never granted to PUBLIC), and its sessions are read-only by default. What PUBLIC
keeps on the database (CONNECT, and TEMPORARY: tables private to the session) is left alone. Every
identifier goes through ``psycopg.sql.Identifier``; role names are validated besides.

Roles are marked with a comment (``harmonia-readonly:<schema>``): rotating or revoking refuses a
role that does not carry that mark, so these commands can never alter an administrator's role.
"""

from __future__ import annotations

import getpass
import re
import secrets

from django.db import connection, transaction
from psycopg import sql

from tenants.models import SecurityEvent
from tenants.security_events import security_event_record

ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
MARK_PREFIX = "harmonia-readonly:"


class DbAccessError(Exception):
    """A user-facing error (French message)."""


def validate_role_name(role: str) -> str:
    if not ROLE_RE.match(role or "") or role.startswith("pg_"):
        raise DbAccessError(
            f"Nom de rôle invalide : « {role} » (minuscules, chiffres et _, 3 à 63 caractères, "
            "commençant par une lettre, pas de préfixe pg_)."
        )
    return role


def _platform_schema(code: str) -> str:
    from tenants.models import Platform

    platform = Platform.objects.declaration_platforms().filter(code=code).first()
    if platform is None:
        raise DbAccessError(f"Plateforme inconnue : « {code} ».")
    return platform.schema_name


def _role_mark(cursor, role: str) -> str | None:
    """The role's comment, or None when the role does not exist ('' when it has no comment)."""
    cursor.execute(
        "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = %s",
        [role],
    )
    row = cursor.fetchone()
    return None if row is None else row[0]


def _execute(cursor, query: sql.Composable) -> None:
    cursor.execute(query.as_string(cursor.connection))


def _other_schemas(cursor, keep: str) -> list[str]:
    cursor.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname <> %s AND nspname NOT LIKE 'pg\\_%%' "
        "AND nspname <> 'information_schema' ORDER BY nspname",
        [keep],
    )
    return [row[0] for row in cursor.fetchall()]


def _system_user() -> str:
    """Who ran the command (the system account): these commands have no signed-in user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def grant_readonly(code: str, role: str) -> tuple[str, bool]:
    """Create or rotate ``role`` for platform ``code``; return (new password, created)."""
    role = validate_role_name(role)
    schema = _platform_schema(code)
    password = secrets.token_urlsafe(24)
    ident = sql.Identifier(role)
    with transaction.atomic(), connection.cursor() as cursor:
        mark = _role_mark(cursor, role)
        created = mark is None
        if created:
            _execute(
                cursor,
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS CONNECTION LIMIT 5 PASSWORD {}"
                ).format(ident, sql.Literal(password)),
            )
        elif not mark.startswith(MARK_PREFIX):
            raise DbAccessError(
                f"Le rôle « {role} » existe et n'a pas été créé par cette commande : refusé."
            )
        elif mark != MARK_PREFIX + schema:
            raise DbAccessError(
                f"Le rôle « {role} » donne accès à une autre plateforme "
                f"({mark.removeprefix(MARK_PREFIX)}) : révoquez-le d'abord."
            )
        else:
            _execute(
                cursor,
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)),
            )
        _execute(
            cursor,
            sql.SQL("COMMENT ON ROLE {} IS {}").format(ident, sql.Literal(MARK_PREFIX + schema)),
        )
        # Sessions are read-only and look in the platform's schema first.
        _execute(
            cursor,
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident),
        )
        _execute(
            cursor,
            sql.SQL("ALTER ROLE {} SET search_path = {}").format(ident, sql.Identifier(schema)),
        )
        # Nothing on the other schemas (public included), whatever was granted before.
        for other in _other_schemas(cursor, schema):
            _execute(
                cursor,
                sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(sql.Identifier(other), ident),
            )
            _execute(
                cursor,
                sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(
                    sql.Identifier(other), ident
                ),
            )
        schema_id = sql.Identifier(schema)
        _execute(cursor, sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema_id, ident))
        _execute(cursor, sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, ident))
        _execute(
            cursor,
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema_id, ident),
        )
        # Tables created later by migrations (run as the current user) are readable too.
        _execute(
            cursor,
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                schema_id, ident
            ),
        )
        # in the same transaction: a grant is never without its event, nor the reverse
        security_event_record(
            SecurityEvent.Kind.DB_READONLY_GRANT,
            platform=code,
            username=_system_user(),
            detail=(
                f"Rôle « {role} » {'créé' if created else 'renouvelé (nouveau mot de passe)'} : "
                f"lecture seule sur le schéma {schema}."
            ),
        )
    return password, created


def revoke_readonly(role: str) -> bool:
    """Drop ``role`` (made by :func:`grant_readonly`); False when it does not exist."""
    role = validate_role_name(role)
    ident = sql.Identifier(role)
    with transaction.atomic(), connection.cursor() as cursor:
        mark = _role_mark(cursor, role)
        if mark is None:
            return False
        if not mark.startswith(MARK_PREFIX):
            raise DbAccessError(
                f"Le rôle « {role} » n'a pas été créé par db_readonly_grant : refusé."
            )
        _execute(cursor, sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
        # Drops its privileges and default privileges in this database.
        _execute(cursor, sql.SQL("DROP OWNED BY {}").format(ident))
        _execute(cursor, sql.SQL("DROP ROLE {}").format(ident))
        security_event_record(
            SecurityEvent.Kind.DB_READONLY_REVOKE,
            platform=mark.removeprefix(MARK_PREFIX),
            username=_system_user(),
            detail=f"Rôle « {role} » supprimé.",
        )
    return True


def readonly_roles() -> list[tuple[str, str]]:
    """(role, schema) of every read-only role these commands made, by their mark."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles "
            "WHERE shobj_description(oid, 'pg_authid') LIKE %s ORDER BY rolname",
            [MARK_PREFIX + "%"],
        )
        return [(role, mark[len(MARK_PREFIX) :]) for role, mark in cursor.fetchall()]
