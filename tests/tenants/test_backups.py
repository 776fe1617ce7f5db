"""Backups: pg_dump of one platform or of everything, restored with pg_restore.

pg_dump and pg_restore use their own connections, which cannot see a test's uncommitted rows:
these tests run with autocommit on the committed test database (demo data), and put back what
they change. The full backup is restored into a new database of its own, compared table by
table with the source, then dropped."""

import hashlib
import json
import tarfile

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants import backups
from tenants.backups import (
    DUMP_NAME,
    MANIFEST_NAME,
    MEDIA_NAME,
    find_binary,
    list_archive,
    server_major,
)
from tests.dbbuild import _admin_connection, _admin_connection_params


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


# --- a full backup restored into a new, empty database -----------------------------------------

TABLES_SQL = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\\_%%'
      AND n.nspname <> 'information_schema'
    ORDER BY 1, 2
"""
# rows hashed one by one, then the sorted row hashes: independent of collation and of the
# physical order, and small whatever the rows hold (uploaded files are bytea)
CHECKSUM_SQL = (
    "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
    'FROM (SELECT md5(t::text) AS h FROM "{}"."{}" t) rows'
)
SEQUENCES_SQL = (
    "SELECT schemaname, sequencename, last_value FROM pg_sequences "
    "WHERE schemaname NOT LIKE 'pg\\_%%' ORDER BY 1, 2"
)


def contents(cursor) -> tuple[dict, list]:
    """{(schema, table): (row count, checksum)} and every sequence's last value."""
    tables = cursor.execute(TABLES_SQL).fetchall()
    sums = {(s, t): cursor.execute(CHECKSUM_SQL.format(s, t)).fetchone() for s, t in tables}
    return sums, cursor.execute(SEQUENCES_SQL).fetchall()


@pytest.fixture
def new_database(committed):
    """A new empty database on the same server, dropped afterwards. Not named test_harmonia_*:
    tests/dbbuild.py drops those it did not build."""
    name = f"restore_check_{connection.settings_dict['NAME']}"[:63]
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_full_backup_restored_into_a_new_database_is_identical(
    new_database, tmp_path, settings, monkeypatch, capsys
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = tmp_path / "media" / "original_images" / "photo.png"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(bytes(range(256)) * 40)
    folder = tmp_path / "all"

    params = _admin_connection_params()
    source_params = {**params, "dbname": connection.settings_dict["NAME"]}
    # pg_dump reads the snapshot the source's checksums are taken in: rows other sessions
    # commit meanwhile are in neither
    with psycopg.connect(**source_params) as source:
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snapshot = source.execute("SELECT pg_export_snapshot()").fetchone()[0]
        expected = contents(source.cursor())
        run = backups._run

        def run_in_snapshot(args):
            if args[0].endswith("pg_dump"):
                args = [*args, f"--snapshot={snapshot}"]
            return run(args)

        monkeypatch.setattr(backups, "_run", run_in_snapshot)
        call_command("backup", output=str(folder))
        source.rollback()
    monkeypatch.undo()

    # every file present under MEDIA_ROOT is in the full backup, byte for byte
    with tarfile.open(folder / MEDIA_NAME) as archive:
        assert archive.getnames() == ["original_images/photo.png"]
        assert archive.extractfile("original_images/photo.png").read() == photo.read_bytes()
    photo.unlink()

    capsys.readouterr()
    call_command("restore", input=str(folder), database=new_database)  # dry run
    assert f"dans la base {new_database}" in capsys.readouterr().out
    call_command("restore", input=str(folder), database=new_database, confirm=True)
    out = capsys.readouterr().out
    assert "Restauration terminée" in out and "Fichiers média non extraits" in out
    assert not photo.exists()  # a restore into another database leaves MEDIA_ROOT alone

    with psycopg.connect(**{**params, "dbname": new_database}) as restored:
        tables, sequences = contents(restored.cursor())
    sums, expected_sequences = expected
    assert {"public", "platform_template", "dhup", "oph", "esh", "coop", "epl"} <= {
        schema for schema, _ in tables
    }
    assert sorted(tables) == sorted(sums)
    assert sum(n for n, _ in sums.values()) > 1000  # the demo data, not empty tables
    assert [key for key in sums if tables[key] != sums[key]] == []
    assert sequences == expected_sequences


def test_restore_into_another_database_needs_an_existing_one(committed, tmp_path):
    folder = tmp_path / "epl"
    call_command("backup", output=str(folder), platform="epl")
    with pytest.raises(CommandError, match="n'existe pas"):
        call_command(
            "restore", input=str(folder), platform="epl", database="pas_de_base_ici", confirm=True
        )
    with pytest.raises(CommandError, match="invalide"):
        call_command("restore", input=str(folder), platform="epl", database="host=ailleurs")


# --- media files ---------------------------------------------------------------------------


def test_platform_backup_takes_and_restores_its_own_media_files(committed, tmp_path, settings):
    from wagtail.documents import get_document_model
    from wagtail.models import Collection

    settings.MEDIA_ROOT = str(tmp_path / "media")
    ours = tmp_path / "media" / "documents" / "guide-esh.pdf"
    other = tmp_path / "media" / "documents" / "sans-reference.pdf"
    ours.parent.mkdir(parents=True)
    content = b"%PDF-1.4 guide " + bytes(range(256)) * 8
    ours.write_bytes(content)
    other.write_bytes(b"not referenced by esh")
    digest = hashlib.sha256(content).hexdigest()

    Document = get_document_model()
    with schema_context("esh"):
        document = Document.objects.create(
            title="Guide de test des sauvegardes",
            file="documents/guide-esh.pdf",
            collection=Collection.get_first_root_node(),
        )
    folder = tmp_path / "esh"
    try:
        call_command("backup", output=str(folder), platform="esh")
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        assert manifest["media_files"] == 1 and MEDIA_NAME in manifest["files"]
        with tarfile.open(folder / MEDIA_NAME) as archive:
            assert archive.getnames() == ["documents/guide-esh.pdf"]

        ours.unlink()
        call_command("restore", input=str(folder), platform="esh", confirm=True)
        assert hashlib.sha256(ours.read_bytes()).hexdigest() == digest
        assert other.read_bytes() == b"not referenced by esh"
    finally:
        with schema_context("esh"):
            Document.objects.filter(pk=document.pk).delete()
