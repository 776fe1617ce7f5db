"""Backups: pg_dump of one platform or of everything, restored with pg_restore.

pg_dump and pg_restore use their own connections, which cannot see a test's uncommitted rows:
these tests run with autocommit on the committed test database (demo data), and put back what
they change."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.backups import DUMP_NAME, MANIFEST_NAME, find_binary, list_archive, server_major


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def organism(schema: str) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {schema}.organisms_organism ORDER BY id LIMIT 1")
        return cursor.fetchone()


def count(schema: str, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {schema}.{table}")
        return cursor.fetchone()[0]


def test_binaries_match_the_server(committed):
    assert find_binary("pg_dump").exists()
    assert (
        f") {server_major()}"
        in __import__("subprocess")
        .run([str(find_binary("pg_restore")), "--version"], capture_output=True, text=True)
        .stdout
    )


def test_platform_backup_then_restore_puts_the_row_back(committed, tmp_path, capsys):
    folder = tmp_path / "dhup"
    call_command("backup", output=str(folder), platform="dhup")
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["schemas"] == ["dhup"] and manifest["platform"] == "dhup"
    assert manifest["files"][DUMP_NAME]["size"] > 0
    toc = list_archive(folder)
    assert "TABLE DATA dhup organisms_organism" in toc
    assert " oph " not in toc and "TABLE DATA public " not in toc

    ident, name = organism("dhup")
    counts = {t: count("dhup", t) for t in ["organisms_organism", "wagtailcore_page"]}
    oph_before = organism("oph")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE dhup.organisms_organism SET name = 'MODIFIÉ' WHERE id = %s", [ident]
            )
        capsys.readouterr()
        call_command("restore", input=str(folder), platform="dhup")  # dry run
        assert "Simulation" in capsys.readouterr().out
        assert organism("dhup") == (ident, "MODIFIÉ")

        with pytest.raises(CommandError, match="précisez --platform"):
            call_command("restore", input=str(folder), confirm=True)
        with pytest.raises(CommandError, match="ne contient pas"):
            call_command("restore", input=str(folder), platform="oph", confirm=True)

        call_command("restore", input=str(folder), platform="dhup", confirm=True)
        assert "Restauration terminée" in capsys.readouterr().out
        assert organism("dhup") == (ident, name)
        assert {t: count("dhup", t) for t in counts} == counts
        assert organism("oph") == oph_before
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE dhup.organisms_organism SET name = %s WHERE id = %s", [name, ident]
            )


def test_full_backup_lists_every_schema(committed, tmp_path):
    call_command("backup", output=str(tmp_path / "all"))
    manifest = json.loads((tmp_path / "all" / MANIFEST_NAME).read_text())
    assert {"public", "platform_template", "dhup", "oph", "esh", "coop", "epl"} <= set(
        manifest["schemas"]
    )
    assert manifest["platform"] is None and manifest["version"]
    toc = list_archive(tmp_path / "all")
    assert "TABLE DATA public tenants_platform" in toc
    assert "TABLE DATA epl organisms_organism" in toc
    with pytest.raises(CommandError, match="pas vide"):
        call_command("backup", output=str(tmp_path / "all"))


def test_altered_backup_is_refused(committed, tmp_path):
    folder = tmp_path / "esh"
    call_command("backup", output=str(folder), platform="esh")
    with (folder / DUMP_NAME).open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(CommandError, match="altéré"):
        call_command("restore", input=str(folder), platform="esh", confirm=True)
