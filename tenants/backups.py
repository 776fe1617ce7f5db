"""Backups of the whole instance or of one platform, and their restoration.

A backup is a folder holding:

- ``database.dump``: a ``pg_dump`` custom-format archive of the whole database, or of one
  platform's schema (``--schema``);
- ``media.tar.gz`` (only when there are files): the files under ``MEDIA_ROOT``. Uploaded
  documents (exchanges' attachments, form workbooks, generated PDFs) are stored *in the
  database*; only Wagtail images and documents live in ``MEDIA_ROOT``. A platform backup takes
  the files its schema's Wagtail tables refer to;
- ``manifest.json``: date, application version, server version, schemas, sizes, SHA-256.

``pg_dump``/``pg_restore`` must not be older than the server: the embedded server's own
binaries (shipped by pgserver) come first, then those on ``PATH`` and ``/usr/lib/postgresql``;
the one whose major version equals the server's is preferred.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connection

DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar.gz"
MANIFEST_NAME = "manifest.json"
MEDIA_TABLES = [
    ("wagtailimages_image", "file"),
    ("wagtailimages_rendition", "file"),
    ("wagtaildocs_document", "file"),
]


class BackupError(Exception):
    """A user-facing error (French message)."""


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    try:
        import pgserver

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    return dirs


def _major(binary: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - our own binaries, fixed arguments
            [str(binary), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\) (\d+)", out)
    return int(match.group(1)) if match else None


def find_binary(name: str, major: int | None = None) -> Path:
    """``pg_dump`` or ``pg_restore`` of the server's major version (else the nearest newer)."""
    major = server_major() if major is None else major
    found: list[tuple[int, Path]] = []
    for directory in _candidate_dirs():
        binary = directory / name
        version = _major(binary) if binary.exists() else None
        if version is not None and version >= major:
            found.append((version, binary))
    if not found:
        raise BackupError(
            f"Aucun {name} de version ≥ {major} trouvé (installez postgresql-client-{major})."
        )
    return min(found, key=lambda item: item[0])[1]


def _env() -> dict[str, str]:
    """libpq environment for the current database (no password on the command line)."""
    params = connection.get_connection_params()
    env = dict(os.environ)
    for key, var in [
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
        ("sslmode", "PGSSLMODE"),
    ]:
        if params.get(key):
            env[var] = str(params[key])
    return env


def _run(args: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, env=_env())  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} a échoué : {result.stderr.strip()}")
    return result


def platform_schema(code: str) -> str:
    from tenants.models import Platform

    platform = Platform.objects.declaration_platforms().filter(code=code).first()
    if platform is None:
        raise BackupError(f"Plateforme inconnue : « {code} ».")
    return platform.schema_name


def database_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' "
            "AND nspname <> 'information_schema' ORDER BY nspname"
        )
        return [row[0] for row in cursor.fetchall()]


def media_files(schema: str | None) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    if schema is None:
        return sorted(p for p in root.rglob("*") if p.is_file())
    names: set[str] = set()
    with connection.cursor() as cursor:
        for table, column in MEDIA_TABLES:
            cursor.execute("SELECT to_regclass(%s)", [f"{schema}.{table}"])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute(
                f'SELECT "{column}" FROM "{schema}"."{table}"'  # noqa: S608 - fixed names
            )
            names.update(row[0] for row in cursor.fetchall() if row[0])
    return sorted(p for p in (root / name for name in names) if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def app_version() -> str:
    try:
        return metadata.version("harmonia")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "inconnue"


@dataclass
class BackupResult:
    folder: Path
    manifest: dict


def backup(output: Path, platform: str | None = None) -> BackupResult:
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if any(output.iterdir()):
        raise BackupError(f"Le dossier {output} n'est pas vide.")
    schema = platform_schema(platform) if platform else None
    major = server_major()
    dump = output / DUMP_NAME
    args = [str(find_binary("pg_dump", major)), "--format=custom", f"--file={dump}"]
    if schema:
        args.append(f"--schema={schema}")
    _run(args)
    schemas = [schema] if schema else database_schemas()

    files = media_files(schema)
    if files:
        root = Path(settings.MEDIA_ROOT)
        with tarfile.open(output / MEDIA_NAME, "w:gz") as archive:
            for path in files:
                archive.add(path, arcname=path.relative_to(root).as_posix())

    manifest = {
        "format": "harmonia-backup/1",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": app_version(),
        "server_version": major,
        "database": connection.settings_dict["NAME"],
        "platform": platform,
        "schemas": schemas,
        "uploaded_files": "dans la base (pièces jointes, classeurs, PDF) ; "
        "images et documents Wagtail dans media.tar.gz",
        "files": {
            path.name: {"size": path.stat().st_size, "sha256": _sha256(path)}
            for path in sorted(output.iterdir())
        },
        "media_files": len(files),
    }
    (output / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return BackupResult(output, manifest)


def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"Manifeste illisible dans {folder} : {exc}") from exc
    for name, info in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256(path) != info["sha256"]:
            raise BackupError(f"Fichier absent ou altéré dans la sauvegarde : {name}")
    return manifest


def list_archive(folder: Path) -> str:
    """``pg_restore --list`` of the backup's archive (its table of contents)."""
    return _run([str(find_binary("pg_restore")), "--list", str(Path(folder) / DUMP_NAME)]).stdout


def _check_target_database(name: str) -> None:
    # a plain name, not a connection string (pg_restore --dbname accepts both)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}", name):
        raise BackupError(f"Nom de base invalide : « {name} ».")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            raise BackupError(
                f"La base « {name} » n'existe pas sur ce serveur : créez-la d'abord "
                f"(createdb {name} ou CREATE DATABASE)."
            )


def restore(
    folder: Path, platform: str | None = None, dry_run: bool = False, database: str | None = None
) -> dict:
    """Restore a backup into the current database (one platform's schema or everything), or
    into ``database``, another existing database of the same server (e.g. a new empty one, to
    check a backup or read an old state beside the running service).

    ``pg_restore --clean --if-exists --single-transaction``: the objects in the archive are
    dropped and recreated in one transaction (all or nothing). The media files are extracted
    into ``MEDIA_ROOT`` only when restoring into the current database: a restore into another
    database leaves the running service's files alone."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    current = connection.settings_dict["NAME"]
    target = database or current
    if target != current:
        _check_target_database(target)
    args = [
        str(find_binary("pg_restore")),
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        f"--dbname={target}",
    ]
    if platform:
        schema = platform_schema(platform)
        if schema not in manifest["schemas"]:
            raise BackupError(f"La sauvegarde ne contient pas la plateforme « {platform} ».")
        if manifest["platform"] is None:
            args.append(f"--schema={schema}")
    elif manifest["platform"] is not None:
        raise BackupError(
            f"Sauvegarde de la seule plateforme « {manifest['platform']} » : "
            f"précisez --platform {manifest['platform']}."
        )
    args.append(str(folder / DUMP_NAME))
    media = folder / MEDIA_NAME
    extract_media = media.is_file() and target == current
    result = {"manifest": manifest, "command": args, "database": target, "media": extract_media}
    if dry_run:
        return result
    if target == current:
        connection.close()  # no session of ours holds locks on the tables being replaced
    _run(args)
    if extract_media:
        root = Path(settings.MEDIA_ROOT)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(media, "r:gz") as archive:
            archive.extractall(root, filter="data")
    return result
