"""Reversibility: a platform, or the whole instance, as a self-describing ZIP archive, and its
import into an empty instance.

Everything a successor needs is in the archive and none of this code is needed to read it
(layout in ``LISEZMOI.md``, shipped inside every archive):

- ``<schema>/donnees/<app>.<model>.json``: every row of every table of the schema, one JSON
  list per model (Django's serialisation: ``{"model", "pk", "fields"}``, foreign keys as the
  referenced primary key). Binary columns are replaced by ``{"file", "sha256", "size"}`` and the
  bytes are stored as files (PDF snapshots, attachments, form workbooks, XSDs…). Content types
  and permissions, whose ids differ between instances, are written as natural keys.
- ``<schema>/dossiers/<exercise>/<document>/<siren>.xml``: each dossier in the harmonised XML
  format, valid against the XSD of its form version (also in the archive).
- ``<schema>/medias/``: the Wagtail images and documents.
- ``structure.json``: each table's columns with their French labels, types and relations.
- ``manifest.json``: format, date, version, scope, row counts, size and SHA-256 of every file.

Password hashes and API key hashes are replaced by an unusable value unless asked for.
The import refuses an altered archive or a target that is not empty, and writes everything in
one transaction: it either imports the whole archive or changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from exchanges.filetypes import detect
from forms_cms.models import FormVersion
from forms_cms.xmlformat import dossier_xml
from operations.models import Anomaly, HotlineContact
from organisms.models import Organism
from tenants.backups import app_version, media_files
from tenants.models import Platform
from workflow.models import Dossier

FORMAT = "harmonia-reversibilite/1"
MANIFEST = "manifest.json"
README = "LISEZMOI.md"
STRUCTURE = "structure.json"
PUBLIC = "public"
UNUSABLE = "!"  # Django treats a hash starting with "!" as unusable

# Not exported: recreated by migrations with ids of their own (content types, permissions;
# referred to by natural key instead), transient (sessions, lock-out counters, editing
# sessions, the job queue and the shared cache, which are not Django-managed tables), rebuilt
# after the import (the search index), or the host-name routing of this installation
# (platforms and domains are code: tenants/platforms.py, and `platforms_sync --base-domain`).
EXCLUDED = frozenset(
    {
        "contenttypes.contenttype",
        "auth.permission",
        "sessions.session",
        "axes.accessattempt",
        "axes.accessattemptexpiration",
        "tenants.platform",
        "tenants.domain",
        "wagtailsearch.indexentry",
        "wagtailadmin.editingsession",
    }
)
CREDENTIALS = {"accounts.user": "password", "declarations.apitoken": "key_hash"}
# readable places for stored files: model → (folder, the file's name from its row; the
# extension is read from the content when the name has none)
FILE_PLACES = {
    "forms_cms.versionfile": ("formulaires", lambda obj: obj.filename),
    "exchanges.attachment": ("echanges", lambda obj: obj.filename),
    "workflow.dossierexport": ("documents", lambda obj: obj.filename),
    "operations.activityreport": (
        "rapports-activite",
        lambda obj: f"rapport-activite-{obj.platform}-{obj.exercise}",
    ),
}
BATCH = 500


class ReversibilityError(Exception):
    """A user-facing error (French message)."""


# --- what is exported -------------------------------------------------------------------------


def scope_models(schema: str) -> list[type[models.Model]]:
    """Models whose rows live in ``schema`` (public: the shared apps; a platform: the tenant
    apps), minus the excluded ones; in the app registry's order."""
    names = settings.SHARED_APPS if schema == PUBLIC else settings.TENANT_APPS
    found = []
    for config in apps.get_app_configs():
        if config.name not in names:
            continue
        for model in config.get_models():
            meta = model._meta
            if meta.proxy or not meta.managed or meta.label_lower in EXCLUDED:
                continue
            found.append(model)
    return found


def _m2m_fields(model) -> list:
    return [f for f in model._meta.local_many_to_many if f.remote_field.through._meta.auto_created]


def _binary_fields(model) -> list:
    return [f for f in model._meta.local_concrete_fields if isinstance(f, models.BinaryField)]


def _natural_targets(model) -> dict[str, type[models.Model]]:
    """Fields (foreign keys and many-to-many) pointing at content types or permissions."""
    targets = {}
    for f in [*model._meta.local_concrete_fields, *_m2m_fields(model)]:
        if f.is_relation and f.related_model in (ContentType, Permission):
            targets[f.name] = f.related_model
    return targets


def _content_type_keys() -> dict[int, list[str]]:
    return {ct.pk: [ct.app_label, ct.model] for ct in ContentType.objects.all()}


def _permission_keys(ct_keys: dict[int, list[str]]) -> dict[int, list[str]]:
    return {
        pk: [codename, *ct_keys[ct]]
        for pk, codename, ct in Permission.objects.values_list("pk", "codename", "content_type")
    }


class _Encoder(DjangoJSONEncoder):
    """Django's encoder without its loss of microseconds (exact round trips)."""

    def default(self, o):
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _dumps(data) -> bytes:
    return json.dumps(data, cls=_Encoder, ensure_ascii=False, indent=1).encode()


def _dumps_line(data) -> bytes:
    """One JSON value on one line (newlines inside strings are escaped by JSON itself)."""
    return json.dumps(data, cls=_Encoder, ensure_ascii=False, separators=(",", ":")).encode()


def _read_rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict]:
    """The rows of a data file written by ``write_rows``, a line at a time."""
    with archive.open(name) as handle:
        for raw in io.TextIOWrapper(handle, encoding="utf-8"):
            line = raw.strip().rstrip(",")
            if line and line not in ("[", "]", "[]"):
                yield json.loads(line)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    return cleaned or "fichier"


def _sniff_extension(content: bytes) -> str:
    """The extension of a stored file read from its content (PDF, Excel, Word, OpenDocument,
    images: the exchange space's own detection), ``.bin`` otherwise."""

    kind = detect(content)
    return f".{kind.extensions[0]}" if kind and kind.extensions else ".bin"


# --- writing ----------------------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    manifest: dict


@dataclass
class _Writer:
    archive: zipfile.ZipFile
    files: dict[str, dict] = field(default_factory=dict)

    def write(self, name: str, content: bytes, *, compress: bool = True) -> dict:
        if name in self.files:
            raise ValueError(f"duplicate archive member {name}")  # a bug, never user input
        self.archive.writestr(
            name, content, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        )
        info = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        self.files[name] = info
        return info

    def write_rows(self, name: str, rows: Iterable[dict]) -> int:
        """A JSON list written one object per line (valid JSON that a reader can also take a
        line at a time), spooled to a temporary file so that memory stays bounded whatever
        the table's size. Returns the number of rows."""
        digest, size, count = hashlib.sha256(), 0, 0
        with tempfile.TemporaryFile() as spool:
            for count, row in enumerate(rows, start=1):  # noqa: B007 - count is the result
                line = (b"[\n" if count == 1 else b",\n") + _dumps_line(row)
                spool.write(line)
                digest.update(line)
                size += len(line)
            tail = b"\n]\n" if count else b"[]\n"
            spool.write(tail)
            digest.update(tail)
            size += len(tail)
            spool.seek(0)
            with self.archive.open(name, "w", force_zip64=True) as member:
                shutil.copyfileobj(spool, member)
        self.files[name] = {"size": size, "sha256": digest.hexdigest()}
        return count


def _file_path(schema: str, model, obj, field_name: str, content: bytes) -> str:
    label = model._meta.label_lower
    folder, name_of = FILE_PLACES.get(label, (f"fichiers/{label}", lambda obj: field_name))
    name = name_of(obj) or field_name
    if not PurePosixPath(name).suffix:
        name += _sniff_extension(content)
    return f"{schema}/{folder}/{obj.pk}/{_safe_name(name)}"


def _serialised(queryset):
    """(object, Django's python serialisation of it), a batch of objects at a time."""
    batch = []
    for obj in queryset.iterator(chunk_size=BATCH):
        batch.append(obj)
        if len(batch) == BATCH:
            yield from zip(batch, serializers.serialize("python", batch), strict=True)
            batch = []
    yield from zip(batch, serializers.serialize("python", batch), strict=True)


def _serialise_model(writer: _Writer, schema: str, model, keys, with_credentials: bool) -> int:
    meta = model._meta
    label = meta.label_lower
    naturals = _natural_targets(model)
    secret = None if with_credentials else CREDENTIALS.get(label)
    queryset = model._base_manager.order_by("pk")
    if m2m := [f.name for f in _m2m_fields(model)]:
        queryset = queryset.prefetch_related(*m2m)
    return writer.write_rows(
        f"{schema}/donnees/{label}.json",
        _rows(writer, schema, model, queryset, keys, naturals, m2m, secret),
    )


def _rows(writer, schema, model, queryset, keys, naturals, m2m, secret):
    binaries = _binary_fields(model)
    for obj, row in _serialised(queryset):
        fields = row["fields"]
        for f in binaries:
            content = getattr(obj, f.attname)
            if content is None:
                continue
            content = bytes(content)
            path = _file_path(schema, model, obj, f.name, content)
            fields[f.name] = {"file": path, **writer.write(path, content, compress=False)}
        for name, target in naturals.items():
            table = keys[ContentType] if target is ContentType else keys[Permission]
            value = fields[name]
            if isinstance(value, list):
                fields[name] = sorted(table[v] for v in value)
            elif value is not None:
                fields[name] = table[value]
        for name in m2m:
            if name not in naturals:
                fields[name] = sorted(fields[name])
        if secret:
            fields[secret] = UNUSABLE
        yield row


def _dossier_xml(writer: _Writer, schema: str) -> int:
    """Each dossier in the harmonised XML format (readable without the database)."""

    dossiers = Dossier.objects.select_related(
        "form_version__document_type", "organism", "campaign"
    ).order_by("campaign__exercise", "form_version__document_type__code", "organism__siren", "pk")
    count = 0
    for dossier in dossiers.iterator(chunk_size=100):
        document = dossier.form_version.document_type.code
        base = f"{schema}/dossiers/{dossier.campaign.exercise}/{document}/{dossier.organism.siren}"
        name = f"{base}.xml" if f"{base}.xml" not in writer.files else f"{base}-{dossier.pk}.xml"
        writer.write(name, dossier_xml(dossier))
        count += 1
    return count


def _media(writer: _Writer, schema: str) -> int:
    """The files the schema's Wagtail tables refer to (the backups' own selection)."""
    root = Path(settings.MEDIA_ROOT)
    paths = media_files(schema)
    for path in paths:
        name = path.relative_to(root).as_posix()
        writer.write(f"{schema}/medias/{name}", path.read_bytes(), compress=False)
    return len(paths)


def _structure(schemas: Iterable[str]) -> dict:
    """Each exported table's columns, in French where the model says it, for a reader who
    has none of this code."""
    described = {}
    for schema in schemas:
        for model in scope_models(schema):
            meta = model._meta
            columns = []
            for f in [*meta.local_concrete_fields, *_m2m_fields(model)]:
                column = {
                    "name": f.name,
                    "column": getattr(f, "column", None),
                    "type": f.get_internal_type(),
                    "label": str(f.verbose_name),
                    "null": f.null,
                }
                if f.is_relation:
                    column["references"] = f.related_model._meta.label_lower
                if f.choices:
                    column["choices"] = {str(k): str(v) for k, v in f.flatchoices}
                if isinstance(f, models.BinaryField):
                    column["stored_as"] = "file"
                columns.append(column)
            parents = [p._meta.label_lower for p in meta.parents]
            described[meta.label_lower] = {
                "table": meta.db_table,
                "label": str(meta.verbose_name),
                "schemas": "public" if schema == PUBLIC else "each platform",
                "inherits_from": parents,
                "columns": columns,
            }
    return described


def platform_codes() -> list[str]:

    return list(Platform.objects.declaration_platforms().values_list("code", flat=True))


def export_archive(
    output: Path, *, platform: str | None = None, with_credentials: bool = False
) -> ExportResult:
    """Write the archive of one platform (``platform``) or of the whole instance."""
    output = Path(output)
    if output.exists():
        raise ReversibilityError(f"Le fichier {output} existe déjà : choisissez un autre nom.")
    codes = platform_codes()
    if platform is not None and platform not in codes:
        raise ReversibilityError(
            f"Plateforme inconnue : « {platform} » (plateformes : {', '.join(codes)})."
        )
    schemas = [platform] if platform else [PUBLIC, *codes]
    output.parent.mkdir(parents=True, exist_ok=True)
    contents: dict[str, dict] = {}
    partial = output.with_name(output.name + ".partiel")
    try:
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            writer = _Writer(archive)
            for schema in schemas:
                with schema_context(schema):
                    ct_keys = _content_type_keys()
                    keys = {ContentType: ct_keys, Permission: _permission_keys(ct_keys)}
                    tables = {}
                    for model in scope_models(schema):
                        label = model._meta.label_lower
                        count = _serialise_model(writer, schema, model, keys, with_credentials)
                        tables[label] = {"file": f"{schema}/donnees/{label}.json", "rows": count}
                    entry = {"tables": tables}
                    if schema != PUBLIC:
                        entry["dossiers_xml"] = _dossier_xml(writer, schema)
                        entry["media_files"] = _media(writer, schema)
                    contents[schema] = entry
            writer.write(STRUCTURE, _dumps(_structure(schemas)))
            writer.write(README, (Path(__file__).parent / README).read_bytes())
            manifest = {
                "format": FORMAT,
                "date": timezone.now().isoformat(timespec="seconds"),
                "application_version": app_version(),
                "scope": "platform" if platform else "instance",
                "platforms": [s for s in schemas if s != PUBLIC],
                "password_hashes": with_credentials,
                "schemas": contents,
                "files": dict(sorted(writer.files.items())),
            }
            archive.writestr(MANIFEST, _dumps(manifest))
        partial.rename(output)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(output, manifest)


# --- reading ----------------------------------------------------------------------------------


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise ReversibilityError(f"Fichier introuvable : {path}.") from exc
    except zipfile.BadZipFile as exc:
        raise ReversibilityError(
            f"{path} n'est pas une archive ZIP : donnez le fichier produit par "
            "reversibility_export."
        ) from exc


def _member_is_safe(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts and "\\" not in name


def read_manifest(archive: zipfile.ZipFile) -> dict:
    """The manifest, after checking every file it lists (size and SHA-256)."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError as exc:
        raise ReversibilityError(
            "manifest.json absent : ce n'est pas une archive de réversibilité Harmonia."
        ) from exc
    except ValueError as exc:
        raise ReversibilityError(f"manifest.json illisible : {exc}.") from exc
    if manifest.get("format") != FORMAT:
        raise ReversibilityError(
            f"Format « {manifest.get('format')} » non pris en charge (attendu : {FORMAT})."
        )
    members = {info.filename: info for info in archive.infolist()}
    for name, info in manifest["files"].items():
        member = members.get(name)
        if not _member_is_safe(name) or member is None or member.file_size != info["size"]:
            raise ReversibilityError(f"Fichier absent ou altéré dans l'archive : {name}.")
        digest = hashlib.sha256()
        with archive.open(member) as handle:
            for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != info["sha256"]:
            raise ReversibilityError(f"Fichier absent ou altéré dans l'archive : {name}.")
    return manifest


# --- importing --------------------------------------------------------------------------------


def _not_empty(schema: str) -> list[str]:
    """What makes the target schema non-empty (it must hold nothing a person entered)."""

    if schema == PUBLIC:
        checks = [(User, "comptes"), (Anomaly, "anomalies"), (HotlineContact, "contacts")]
    else:
        checks = [
            (User, "comptes"),
            (Organism, "organismes"),
            (FormVersion, "versions de formulaire"),
            (Dossier, "dossiers"),
        ]
    return [f"{model.objects.count()} {what}" for model, what in checks if model.objects.exists()]


def _resolve_naturals(model, rows: list[dict], ids) -> None:
    for name, target in _natural_targets(model).items():
        table = ids[target]
        for row in rows:
            value = row["fields"].get(name)
            try:
                if value and isinstance(value[0], list):
                    row["fields"][name] = [table[tuple(v)] for v in value]
                elif value:
                    row["fields"][name] = table[tuple(value)]
            except KeyError as exc:
                raise ReversibilityError(
                    f"{model._meta.label_lower} n°{row['pk']} : « {name} » désigne "
                    f"{'.'.join(exc.args[0])}, inconnu de cette instance "
                    "(archive d'une autre version de l'application ?)."
                ) from exc


def _resolve_files(archive: zipfile.ZipFile, model, rows: list[dict]) -> None:
    for f in _binary_fields(model):
        for row in rows:
            value = row["fields"].get(f.name)
            if isinstance(value, dict):
                row["fields"][f.name] = archive.read(value["file"])


def _batches(rows: Iterable[dict]) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model, rows: list[dict]) -> None:
    """Insert a batch of rows with their primary keys, as stored (``raw``: auto_now fields
    and ``save()`` are not applied; only the model's own table, as for a fixture)."""
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    m2m_rows: dict[str, list] = defaultdict(list)
    m2m = {f.name: f for f in _m2m_fields(model)}
    objs = []
    for deserialized in serializers.deserialize("python", rows):
        objs.append(deserialized.object)
        for name, targets in (deserialized.m2m_data or {}).items():
            m2m_rows[name] += [(deserialized.object.pk, t) for t in targets]
    # QuerySet._insert is what Model.save_base and bulk_create use; raw=True keeps the stored
    # values (bulk_create would apply auto_now_add and cannot take inherited models)
    model._base_manager._insert(objs, fields=fields, raw=True)
    for name, pairs in m2m_rows.items():
        relation = m2m[name]
        through = relation.remote_field.through
        source = relation.m2m_field_name() + "_id"
        target = relation.m2m_reverse_field_name() + "_id"
        through._base_manager.bulk_create(
            [through(**{source: a, target: b}) for a, b in pairs], batch_size=BATCH
        )


def _tables(schema_models) -> list[str]:
    tables = []
    for model in schema_models:
        tables.append(model._meta.db_table)
        tables += [f.remote_field.through._meta.db_table for f in _m2m_fields(model)]
    return tables


def _import_schema(archive: zipfile.ZipFile, schema: str, entry: dict) -> dict[str, int]:
    known = {m._meta.label_lower: m for m in scope_models(schema)}
    unknown = sorted(set(entry["tables"]) - set(known))
    if unknown:
        raise ReversibilityError(
            f"Tables inconnues de cette instance dans « {schema} » : {', '.join(unknown)} "
            "(archive d'une autre version de l'application ?)."
        )
    to_load = [known[label] for label in entry["tables"]]
    with schema_context(schema):
        if found := _not_empty(schema):
            raise ReversibilityError(
                f"La plateforme « {schema} » n'est pas vide ({', '.join(found)}) : "
                "importez dans une instance neuve (make migrate, sans données de démonstration)."
            )
        ct_ids = {(ct.app_label, ct.model): ct.pk for ct in ContentType.objects.all()}
        perm_ids = {
            (codename, app, model): pk
            for pk, codename, app, model in Permission.objects.values_list(
                "pk", "codename", "content_type__app_label", "content_type__model"
            )
        }
        ids = {ContentType: ct_ids, Permission: perm_ids}
        # What platforms_sync put in a new platform (home page, site, sub-steps, partner
        # defaults, groups) is replaced by the archive's own rows.
        tables = _tables(known.values())
        if schema != PUBLIC:
            tables.append(apps.get_model("wagtailsearch", "IndexEntry")._meta.db_table)
        quoted = ", ".join(f'"{schema}"."{t}"' for t in tables)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {quoted} CASCADE")  # noqa: S608 - names from the registry
        counts = {}
        for model in to_load:
            label = model._meta.label_lower
            counts[label] = 0
            for rows in _batches(_read_rows(archive, entry["tables"][label]["file"])):
                _resolve_naturals(model, rows, ids)
                _resolve_files(archive, model, rows)
                _insert(model, rows)
                counts[label] += len(rows)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(known.values())):
                cursor.execute(statement)
    return counts


def _extract_media(archive: zipfile.ZipFile, manifest: dict) -> int:
    root = Path(settings.MEDIA_ROOT).resolve()
    count = 0
    for schema in manifest["schemas"]:
        prefix = f"{schema}/medias/"
        for name in manifest["files"]:
            if not name.startswith(prefix):
                continue
            target = (root / name[len(prefix) :]).resolve()
            if not target.is_relative_to(root):
                raise ReversibilityError(f"Chemin de média refusé : {name}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
            count += 1
    return count


@dataclass
class ImportResult:
    manifest: dict
    counts: dict[str, dict[str, int]]
    media_files: int = 0
    dry_run: bool = False


def import_archive(path: Path, *, dry_run: bool = False) -> ImportResult:
    """Import an archive into this (empty) instance: all of it in one transaction, or nothing.

    The platforms must exist (``platforms_sync``) and hold no data yet."""
    with _open(Path(path)) as archive:
        manifest = read_manifest(archive)
        codes = set(platform_codes())
        missing = [code for code in manifest["platforms"] if code not in codes]
        if missing:
            raise ReversibilityError(
                f"Plateforme(s) absente(s) de cette instance : {', '.join(missing)} "
                "(lancez d'abord platforms_sync)."
            )
        if dry_run:
            for schema in manifest["schemas"]:
                with schema_context(schema):
                    if found := _not_empty(schema):
                        raise ReversibilityError(
                            f"La plateforme « {schema} » n'est pas vide ({', '.join(found)})."
                        )
            counts = {
                schema: {label: t["rows"] for label, t in entry["tables"].items()}
                for schema, entry in manifest["schemas"].items()
            }
            return ImportResult(manifest, counts, dry_run=True)
        counts = {}
        with transaction.atomic():
            for schema, entry in manifest["schemas"].items():
                counts[schema] = _import_schema(archive, schema, entry)
        media = _extract_media(archive, manifest)
    for schema in manifest["platforms"]:
        with schema_context(schema):
            call_command("update_index", verbosity=0)
    return ImportResult(manifest, counts, media)
