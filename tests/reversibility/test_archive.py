"""Reversibility: export the instance (or a platform), import into a new empty instance.

The source is a copy of the test database (demo data) with a declared, transmitted dossier,
an exchange with an attachment, CMS content and a media file, and operator records added; the
target is a new instance as ``make migrate`` leaves it. Both are real databases: these tests
commit, on copies that are dropped at the end."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context
from lxml import etree

from reversibility.archive import (
    EXCLUDED,
    MANIFEST,
    PUBLIC,
    UNUSABLE,
    export_archive,
    import_archive,
    scope_models,
)
from tests.dbbuild import use_database
from tests.reversibility.instances import copy_database, drop_database, empty_database_name

PLATFORM_SCHEMAS = ["dhup", "oph", "esh", "coop", "epl"]
SCHEMAS = [PUBLIC, *PLATFORM_SCHEMAS]
DEMO_PASSWORD = "Harmonia-Demo-2024!"  # noqa: S105 - the demo accounts' published password
MEDIA_BYTES = b"%PDF-1.4 guide des editeurs\n%%EOF\n"


def excluded_tables() -> set[str]:
    from django.apps import apps
    from django.conf import settings

    tables = {apps.get_model(label)._meta.db_table for label in EXCLUDED}
    # the shared cache's table (not a model: never exported, filled by whatever ran before)
    caches = {
        cache["LOCATION"]
        for cache in settings.CACHES.values()
        if cache["BACKEND"].endswith("DatabaseCache")
    }
    return tables | caches | {"django_migrations", "wagtailsearch_indexentry"}


def table_counts() -> dict[tuple[str, str], int]:
    """Rows of every table of every schema (what migrations create, less what is not
    exported by design)."""
    skip = excluded_tables()
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE'",
            [SCHEMAS],
        )
        for schema, table in cursor.fetchall():
            if table in skip or table.startswith("procrastinate_"):
                continue
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608
            counts[(schema, table)] = cursor.fetchone()[0]
    return counts


def column_checksum(schema: str, table: str, column: str, order: str = "id") -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT md5(string_agg(md5("{column}"::text), \'\' ORDER BY "{order}")) '  # noqa: S608
            f'FROM "{schema}"."{table}"'
        )
        return cursor.fetchone()[0]


CHECKED_COLUMNS = [
    ("dhup", "workflow_dossier", "values"),
    ("dhup", "workflow_dossier", "computed"),
    ("oph", "workflow_dossier", "values"),  # a multivalued table's rows
    ("oph", "workflow_dossier", "computed"),
    ("dhup", "workflow_stepchange", "changed_at"),
    ("dhup", "workflow_valuechange", "changed_at"),
    ("dhup", "forms_cms_versionfile", "content"),
    ("dhup", "workflow_dossierexport", "content"),
    ("dhup", "exchanges_attachment", "content"),
    ("dhup", "organisms_organism", "siren"),
    ("dhup", "wagtailcore_page", "path"),
    ("oph", "wagtailcore_revision", "content"),
    ("public", "operations_anomaly", "short_description"),
    ("public", "operations_anomalyevent", "at"),
    ("public", "operations_hotlinecontact", "received_at"),
    ("public", "operations_activityreport", "xlsx"),
]


def seed() -> dict:
    """What people would have entered: committed in the source copy."""
    from wagtail.documents.models import Document

    from accounts.models import User
    from declarations.services import dossier_values_save
    from exchanges.services import message_post
    from faq_wiki.demo import demo_content
    from operations import services as ops
    from operations.models import Correspondent, HotlineContact
    from operations.services_activity import activity_report_produce
    from tests.declarations.test_online_form import open_dossier
    from tests.forms_cms.engine.helpers import workbook_bytes
    from tests.forms_cms.test_versions import NAMES, SHEETS, upload
    from tests.partners.conftest import transmit

    with schema_context("dhup"):
        gestionnaire = User.objects.get(username="gestionnaire")
        declarant = User.objects.select_related("membership__organism").get(username="organisme")
    upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "1234,5", "PAS_CAPITAL": "10"},
            acting_user=declarant,
        )
    transmit(dossier, declarant)
    _seed_table()
    with schema_context("dhup"):
        message_post(
            dossier=dossier,
            author=declarant,
            body="Voici la décision de prorogation.",
            files=[("decision.pdf", MEDIA_BYTES, "prorogation")],
        )
        Document.objects.create(
            title="Guide des éditeurs", file=ContentFile(MEDIA_BYTES, name="guide.pdf")
        )
    demo_content()
    with schema_context(PUBLIC):
        staff = User.objects.get(username="hotline")
        Correspondent.objects.create(name="Claire Martin", email="claire.martin@example.fr")
        anomaly = ops.anomaly_create(
            by=staff,
            short_description=" ".join(["mot"] * 25),
            severity="major",
            found_on="2026-11-02",
            reporter="Hotline",
            platforms=["dhup", "oph"],
        )
        ops.anomaly_change(anomaly, by=staff, status="acknowledged", comment="Vue.")
        activity_report_produce(platform="dhup", exercise=2024, by=staff)
        HotlineContact.objects.create(
            received_at="2026-11-03T09:15:42.123456+01:00",
            channel="phone",
            platform="dhup",
            caller_name="M. Durand",
            subject="entry",
            description="Question sur la saisie.",
        )
    return {"dossier": dossier.pk, "siren": dossier.organism.siren}


def _seed_table() -> None:
    """A federation dossier with a multivalued table's rows."""
    from accounts.models import User
    from declarations.services import dossier_open, dossier_table_save
    from fixtures.parity_corpus.tables import table_workbook
    from forms_cms.models import DocumentType
    from tests.forms_cms.test_versions import upload
    from workflow.models import Campaign

    with schema_context("oph"):
        gestionnaire = User.objects.get(username="gestionnaire")
        declarant = User.objects.select_related("membership__organism").get(username="organisme")
    upload("oph", table_workbook([]), user=gestionnaire, document="QDIS_OPH")
    with schema_context("oph"):
        dossier = dossier_open(
            organism=declarant.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_OPH"),
            acting_user=declarant,
        )
        dossier_table_save(dossier=dossier, table="Filiales", action="replace",
                           acting_user=declarant, rows=[
            {"FIL_NOM": "Alpha", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50"},
            {"FIL_NOM": "Beta", "FIL_CAPITAL": "2 500,25", "FIL_CATEGORIE": "SAS"},
        ])  # fmt: skip


@pytest.fixture(scope="module")
def databases(django_db_setup, django_db_blocker, tmp_path_factory):
    """Source copy with seeded data, its instance archive, and the empty-instance template."""
    folder = tmp_path_factory.mktemp("reversibility")
    main = settings.DATABASES["default"]["NAME"]
    source = f"{main}_rev_source"
    with django_db_blocker.unblock():
        empty = empty_database_name()
        copy_database(main, source)
        use_database(source)
        try:
            with override_settings(MEDIA_ROOT=str(folder / "media-source")):
                seeded = seed()
                archive = folder / "instance.zip"
                export_archive(archive)
                counts = table_counts()
                checksums = {c: column_checksum(*c) for c in CHECKED_COLUMNS}
        finally:
            connection.set_schema_to_public()
            use_database(main)
    yield {
        "main": main,
        "source": source,
        "empty": empty,
        "archive": archive,
        "folder": folder,
        "counts": counts,
        "checksums": checksums,
        **seeded,
    }
    with django_db_blocker.unblock():
        drop_database(source)


@pytest.fixture
def target(databases, django_db_blocker):
    """A new empty instance (a copy of the template), used as the default database."""
    name = f"{databases['main']}_rev_target"
    with django_db_blocker.unblock():
        copy_database(databases["empty"], name)
        use_database(name)
        try:
            with override_settings(MEDIA_ROOT=str(databases["folder"] / "media-target")):
                yield name
        finally:
            connection.set_schema_to_public()
            use_database(databases["main"])
            drop_database(name)


def manifest_of(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(MANIFEST))


def test_archive_is_readable_without_the_application(databases):
    manifest = manifest_of(databases["archive"])
    assert manifest["scope"] == "instance"
    assert set(manifest["schemas"]) == set(SCHEMAS)
    dhup = manifest["schemas"]["dhup"]
    assert dhup["tables"]["organisms.organism"]["rows"] == 829
    assert dhup["dossiers_xml"] == 1 and dhup["media_files"] == 1
    with zipfile.ZipFile(databases["archive"]) as archive:
        names = set(archive.namelist())
        assert {"LISEZMOI.md", "structure.json", MANIFEST} <= names
        # the dossier as XML, valid against the XSD of its form version, both in the archive
        xml_name = f"dhup/dossiers/2024/ER_SOCIAUX/{databases['siren']}.xml"
        xsd_name = next(n for n in names if n.startswith("dhup/formulaires/") and n.endswith("xsd"))
        schema = etree.XMLSchema(etree.fromstring(archive.read(xsd_name)))
        document = etree.fromstring(archive.read(xml_name))
        schema.assertValid(document)
        assert document.get("siren") == databases["siren"]
        assert any(e.text == "1234.50" for e in document.iter("{*}ACT_IMMO"))
        # the attachment is a file of its own, referred to from its row
        rows = json.loads(archive.read("dhup/donnees/exchanges.attachment.json"))
        (attachment,) = rows
        ref = attachment["fields"]["content"]
        assert ref["file"].endswith("decision.pdf")
        assert archive.read(ref["file"]) == MEDIA_BYTES
        assert ref["sha256"] == hashlib.sha256(MEDIA_BYTES).hexdigest()
        # every JSON data file lists the rows the manifest counts
        for entry in manifest["schemas"].values():
            for label, table in entry["tables"].items():
                assert len(json.loads(archive.read(table["file"]))) == table["rows"], label
        structure = json.loads(archive.read("structure.json"))
        dossier_columns = {c["name"]: c for c in structure["workflow.dossier"]["columns"]}
        assert dossier_columns["organism"]["references"] == "organisms.organism"
        assert dossier_columns["step"]["choices"]
        # stored files are named from their row, with the extension their content shows
        report = next(n for n in names if n.startswith("public/rapports-activite/"))
        assert report.rsplit("/", 1)[1] in {
            "rapport-activite-dhup-2024.pdf",
            "rapport-activite-dhup-2024.xlsx",
        }
        assert {n.rsplit(".", 1)[1] for n in names if "/rapports-activite/" in n} == {
            "pdf",
            "xlsx",
        }
        # content types by natural key, not by this instance's ids
        revisions = json.loads(archive.read("oph/donnees/wagtailcore.revision.json"))
        assert revisions and all(isinstance(r["fields"]["content_type"], list) for r in revisions)


def test_passwords_and_key_hashes_are_left_out_unless_asked(databases):
    with zipfile.ZipFile(databases["archive"]) as archive:
        users = json.loads(archive.read("dhup/donnees/accounts.user.json"))
        staff = json.loads(archive.read("public/donnees/accounts.user.json"))
    assert users and staff
    assert {u["fields"]["password"] for u in users + staff} == {UNUSABLE}


def test_every_exported_relation_stays_inside_the_archive():
    """A foreign key may point only at an exported model or at a content type / permission
    (written by natural key): otherwise an import would dangle."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    for schema in (PUBLIC, "dhup"):
        exported = set(scope_models(schema))
        for model in exported:
            for field in [*model._meta.local_concrete_fields, *model._meta.local_many_to_many]:
                if field.is_relation and field.related_model is not None:
                    target = field.related_model
                    concrete = target._meta.concrete_model
                    assert concrete in exported or target in (ContentType, Permission), (
                        f"{model._meta.label}.{field.name} → {target._meta.label}"
                    )


def test_instance_round_trip_loses_nothing(databases, target, tmp_path, capsys):
    before = table_counts()
    call_command("reversibility_import", input=str(databases["archive"]))  # dry run
    assert "Simulation" in capsys.readouterr().out
    assert table_counts() == before

    call_command("reversibility_import", input=str(databases["archive"]), confirm=True)
    assert "Import terminé" in capsys.readouterr().out
    assert table_counts() == databases["counts"]
    assert {c: column_checksum(*c) for c in CHECKED_COLUMNS} == databases["checksums"]
    media = databases["folder"] / "media-target" / "documents" / "guide.pdf"
    assert media.read_bytes() == MEDIA_BYTES

    # exported again from the new instance: the same archive, file for file
    again = tmp_path / "again.zip"
    export_archive(again)
    first, second = manifest_of(databases["archive"]), manifest_of(again)
    assert second["files"] == first["files"]
    assert second["schemas"] == first["schemas"]

    # the imported instance works: the CMS search index was rebuilt, sequences moved on
    from accounts.models import User
    from faq_wiki.models import FaqPage
    from organisms.models import Organism

    with schema_context("oph"):
        # no password came with the archive: each person chooses a new one
        assert not User.objects.get(username="gestionnaire").has_usable_password()
        assert FaqPage.objects.live().search("mot de passe").count() > 0
        organism = Organism.objects.order_by("-pk").first()
        copy = Organism.objects.create(
            siren="552100554", name="Nouveau", family=organism.family, departement="75"
        )
        assert copy.pk > organism.pk

    # a second import into what is no longer empty is refused, and changes nothing
    counts = table_counts()
    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("reversibility_import", input=str(databases["archive"]), confirm=True)
    assert table_counts() == counts


def test_platform_archive_with_password_hashes(databases, target, django_db_blocker, tmp_path):
    from accounts.models import User

    path = tmp_path / "oph.zip"
    use_database(databases["source"])
    try:
        export_archive(path, platform="oph", with_credentials=True)
    finally:
        connection.set_schema_to_public()
        use_database(target)
    manifest = manifest_of(path)
    assert manifest["scope"] == "platform" and list(manifest["schemas"]) == ["oph"]
    result = import_archive(path)
    assert result.counts["oph"]["organisms.organism"] > 0
    with schema_context("oph"):
        assert User.objects.get(username="gestionnaire").check_password(DEMO_PASSWORD)
    with schema_context("dhup"):
        from organisms.models import Organism

        assert not Organism.objects.exists()  # only the platform asked for


def rewrite(source, target, *, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info.filename)))


def test_altered_or_foreign_files_are_refused_and_change_nothing(databases, target, tmp_path):
    before = table_counts()
    altered = tmp_path / "altered.zip"
    rewrite(
        databases["archive"],
        altered,
        replace={"dhup/donnees/organisms.organism.json": b"[]"},
    )
    with pytest.raises(CommandError, match="altéré.*dhup/donnees/organisms.organism.json"):
        call_command("reversibility_import", input=str(altered), confirm=True)

    not_zip = tmp_path / "notes.zip"
    not_zip.write_bytes(b"ceci n'est pas une archive")
    with pytest.raises(CommandError, match="n'est pas une archive ZIP"):
        call_command("reversibility_import", input=str(not_zip), confirm=True)

    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("data.json", "{}")
    with pytest.raises(CommandError, match="manifest.json absent"):
        call_command("reversibility_import", input=str(other), confirm=True)

    newer = tmp_path / "newer.zip"
    manifest = manifest_of(databases["archive"])
    manifest["format"] = "harmonia-reversibilite/9"
    rewrite(databases["archive"], newer, replace={MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(CommandError, match="non pris en charge"):
        call_command("reversibility_import", input=str(newer), confirm=True)
    assert table_counts() == before


def test_export_refuses_an_existing_file_and_an_unknown_platform(db, tmp_path):
    existing = tmp_path / "x.zip"
    existing.write_bytes(b"")
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("reversibility_export", output=str(existing))
    with pytest.raises(CommandError, match="Plateforme inconnue"):
        call_command("reversibility_export", output=str(tmp_path / "y.zip"), platform="xyz")
    assert not (tmp_path / "y.zip").exists()
