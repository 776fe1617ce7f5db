"""Read-only database access: the role reads its platform's schema and nothing else.

The checks run as the role with ``SET ROLE`` from the test connection (the embedded server
trusts its unix socket, so a password login would prove nothing); every statement runs in a
savepoint so that a refused one does not abort the test's transaction.
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from tenants.dbaccess import DbAccessError, grant_readonly, revoke_readonly, validate_role_name

ROLE = "lecture_dhup_test"


def as_role(role: str, query: str):
    """Run ``query`` as ``role``; return its rows or raise the database error."""
    with transaction.atomic(), connection.cursor() as cursor:
        # On an error the savepoint's rollback also undoes the SET ROLE.
        cursor.execute(f'SET ROLE "{role}"')
        cursor.execute(query)
        rows = cursor.fetchall() if cursor.description else []
        cursor.execute("RESET ROLE")
        return rows


def refused(role: str, query: str) -> str:
    with pytest.raises(DatabaseError) as info:
        as_role(role, query)
    return str(info.value)


def role_exists(role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def test_grant_gives_select_on_the_platform_schema_only(db, capsys):
    call_command("db_readonly_grant", platform="dhup", role=ROLE)
    out = capsys.readouterr().out
    assert "Mot de passe" in out and "créé" in out

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dhup.organisms_organism")
        expected = cursor.fetchone()[0]
    assert expected > 0
    assert as_role(ROLE, "SELECT count(*) FROM dhup.organisms_organism") == [(expected,)]
    # Tables created after the grant are readable too (default privileges).
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE dhup.zz_later (id int)")
    assert as_role(ROLE, "SELECT count(*) FROM dhup.zz_later") == [(0,)]

    for query in [
        "SELECT count(*) FROM oph.organisms_organism",
        "SELECT count(*) FROM esh.accounts_user",
        "SELECT count(*) FROM public.tenants_platform",
        "SELECT count(*) FROM public.accounts_user",
        "SELECT count(*) FROM platform_template.organisms_organism",
    ]:
        assert "permission denied" in refused(ROLE, query), query

    for query in [
        "UPDATE dhup.organisms_organism SET name = name",
        "DELETE FROM dhup.organisms_organism",
        "CREATE TABLE dhup.zz_evil (id int)",
    ]:
        refused(ROLE, query)
    # Even outside a read-only session, writing is not granted.
    message = refused(
        ROLE,
        "SET LOCAL default_transaction_read_only = off; "
        "SET LOCAL transaction_read_only = off; "
        "INSERT INTO dhup.zz_later VALUES (1)",
    )
    assert "permission denied" in message

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles "
            "WHERE rolname = %s",
            [ROLE],
        )
        assert cursor.fetchone() == (False, False, False, True)


def test_rotate_changes_the_password_and_revoke_drops_the_role(db, capsys):
    first, created = grant_readonly("dhup", ROLE)
    assert created
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [ROLE])
        hash_before = cursor.fetchone()[0]
    second, created = grant_readonly("dhup", ROLE)
    assert not created and second != first
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [ROLE])
        assert cursor.fetchone()[0] != hash_before
    assert as_role(ROLE, "SELECT count(*) FROM dhup.organisms_organism")

    with pytest.raises(DbAccessError, match="autre plateforme"):
        grant_readonly("oph", ROLE)

    call_command("db_readonly_revoke", role=ROLE)
    assert "supprimé" in capsys.readouterr().out
    assert not role_exists(ROLE)
    assert revoke_readonly(ROLE) is False


def test_foreign_roles_and_bad_names_are_refused(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE zz_someone_else")
    with pytest.raises(CommandError, match="pas été créé"):
        call_command("db_readonly_grant", platform="dhup", role="zz_someone_else")
    with pytest.raises(CommandError, match="pas été créé"):
        call_command("db_readonly_revoke", role="zz_someone_else")
    assert role_exists("zz_someone_else")
    with pytest.raises(CommandError, match="Plateforme inconnue"):
        call_command("db_readonly_grant", platform="public", role=ROLE)
    for bad in ['x"; DROP ROLE postgres; --', "pg_read", "Lecture", "ab", "1abc"]:
        with pytest.raises(DbAccessError):
            validate_role_name(bad)
