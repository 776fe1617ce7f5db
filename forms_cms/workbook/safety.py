"""First look at an uploaded form workbook, before any XML parser touches it.

``workbook_file_check(data, filename)`` refuses, with a French message for the gestionnaire,
what is not an ``.xlsx``/``.xlsm`` workbook (text, PDF, OpenDocument, ``.xlsb``), legacy
``.xls`` files, password-protected workbooks and archives built to exhaust memory (zip bombs).

Only the zip's central directory is read (``ZipFile.infolist()``): the declared uncompressed
sizes are trustworthy bounds because ``zipfile`` never inflates a member beyond its declared
size. The first bytes of each XML part are inflated to refuse ``<!DOCTYPE`` declarations (an
Office file never has one; entity expansion is the XML flavour of a bomb).

``workbook_load(data)`` then opens the checked bytes with openpyxl, quietly (openpyxl warns
about every feature it drops), and turns openpyxl's own failures into the same French error.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import openpyxl

MB = 1024 * 1024

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Encrypted OOXML files are OLE2 compound files holding these streams (MS-OFFCRYPTO).
ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
DEFAULT_MAX_UPLOAD_BYTES = 50 * MB
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * MB
DEFAULT_MAX_MEMBERS = 10_000
DEFAULT_MAX_RATIO = 100
DEFAULT_RATIO_MIN_BYTES = 10 * MB
_XML_HEAD_BYTES = 4096

SAVE_AS_XLSX = (
    "ouvrez-le dans Excel puis « Fichier > Enregistrer sous » au format "
    "« Classeur Excel (*.xlsx) » et déposez ce nouveau fichier"
)


class WorkbookFileError(Exception):
    """The uploaded file cannot be used as a form workbook; ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _mb(size: int) -> str:
    value = size / MB
    return f"{value:.0f} Mo" if value >= 10 else f"{value:.1f} Mo".replace(".", ",")


def workbook_file_check(
    data: bytes,
    filename: str,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float = DEFAULT_MAX_RATIO,
    ratio_min_bytes: int = DEFAULT_RATIO_MIN_BYTES,
) -> None:
    """Raise :class:`WorkbookFileError` unless ``data`` is a plausible, safe xlsx/xlsm file."""
    label = f"Le fichier « {filename} »"
    if not data:
        raise WorkbookFileError(f"{label} est vide : déposez le classeur Excel du formulaire.")
    if len(data) > max_upload_bytes:
        raise WorkbookFileError(
            f"{label} pèse {_mb(len(data))}, au-delà de la limite de {_mb(max_upload_bytes)} : "
            "allégez le classeur (images, feuilles ou plages inutiles) avant de le déposer."
        )
    if data.startswith(OLE_SIGNATURE):
        if any(stream in data for stream in ENCRYPTION_STREAMS):
            raise WorkbookFileError(
                f"{label} est un classeur protégé par mot de passe : retirez la protection "
                "(dans Excel, « Fichier > Informations > Protéger le classeur > Chiffrer avec "
                "mot de passe », effacez le mot de passe), enregistrez, puis déposez-le à nouveau."
            )
        raise WorkbookFileError(
            f"{label} est au format .xls (Excel 97-2003) : enregistrez le classeur au format "
            f".xlsx ({SAVE_AS_XLSX})."
        )
    if data.startswith(b"%PDF"):
        raise WorkbookFileError(
            f"{label} est un document PDF et non un classeur Excel : déposez le fichier .xlsx "
            "du formulaire."
        )
    if not data.startswith(b"PK"):
        raise WorkbookFileError(
            f"{label} n'est pas un classeur Excel (.xlsx) : déposez le fichier .xlsx du "
            "formulaire ; un export CSV, texte ou PDF ne convient pas."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise WorkbookFileError(
            f"{label} est endommagé (archive illisible) : {SAVE_AS_XLSX}."
        ) from exc
    with archive:
        _members_check(
            members,
            label,
            max_uncompressed_bytes=max_uncompressed_bytes,
            max_members=max_members,
            max_ratio=max_ratio,
            ratio_min_bytes=ratio_min_bytes,
        )
        _parts_check(archive, members, label)


def _members_check(
    members, label, *, max_uncompressed_bytes, max_members, max_ratio, ratio_min_bytes
):
    bomb = (
        f"{label} est refusé : son contenu décompressé serait démesuré ({{detail}}). "
        "Un classeur de formulaire n'atteint jamais cette taille : enregistrez-le à nouveau "
        "depuis Excel et, si le problème persiste, contactez l'assistance."
    )
    if len(members) > max_members:
        detail = f"{len(members)} éléments dans l'archive, {max_members} au plus"
        raise WorkbookFileError(bomb.format(detail=detail))
    total = sum(member.file_size for member in members)
    if total > max_uncompressed_bytes:
        detail = f"{_mb(total)} une fois décompressé, {_mb(max_uncompressed_bytes)} au plus"
        raise WorkbookFileError(bomb.format(detail=detail))
    for member in members:
        if member.flag_bits & 0x1:
            raise WorkbookFileError(
                f"{label} contient des parties chiffrées ({member.filename}) : retirez toute "
                "protection par mot de passe et enregistrez-le à nouveau au format .xlsx."
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ratio_min_bytes and ratio > max_ratio:
            detail = (
                f"la partie « {member.filename} » passe de {_mb(member.compress_size)} à "
                f"{_mb(member.file_size)}, taux de compression de {ratio:.0f} pour 1"
            )
            raise WorkbookFileError(bomb.format(detail=detail))


def _parts_check(archive: zipfile.ZipFile, members, label):
    names = {member.filename.lower(): member for member in members}
    if "xl/workbook.xml" not in names:
        if "mimetype" in names and b"opendocument" in archive.read(names["mimetype"])[:200]:
            raise WorkbookFileError(
                f"{label} est au format OpenDocument (.ods) : enregistrez-le au format "
                "« Classeur Excel (*.xlsx) » (LibreOffice : « Fichier > Enregistrer sous », "
                "type « Excel 2007-365 ») et déposez ce nouveau fichier."
            )
        if "xl/workbook.bin" in names:
            raise WorkbookFileError(
                f"{label} est un classeur binaire (.xlsb) : enregistrez-le au format .xlsx "
                f"({SAVE_AS_XLSX})."
            )
        raise WorkbookFileError(
            f"{label} est une archive zip mais pas un classeur Excel (la partie "
            "xl/workbook.xml est absente) : déposez le fichier .xlsx du formulaire."
        )
    for name, member in names.items():
        if not name.endswith((".xml", ".rels", ".vml")) or member.file_size == 0:
            continue
        try:
            with archive.open(member) as stream:
                head = stream.read(_XML_HEAD_BYTES)
        except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError) as exc:
            raise WorkbookFileError(
                f"{label} est endommagé (partie « {member.filename} » illisible) : {SAVE_AS_XLSX}."
            ) from exc
        if b"<!doctype" in head.lower() or b"<\x00!\x00d\x00o\x00c" in head.lower():
            raise WorkbookFileError(
                f"{label} contient une partie XML non conforme (« {member.filename} » déclare "
                "un DOCTYPE, ce qu'Excel ne produit jamais) : enregistrez-le à nouveau depuis "
                "Excel au format .xlsx."
            )
    _tables_check(archive, names, label)


_TABLE_NAME = re.compile(rb'displayName="([^"]*)"')


def _tables_check(archive: zipfile.ZipFile, names: dict, label: str) -> None:
    """Two Excel Tables with one name (a file written by another tool than Excel) make the
    reader fail with no useful message: name them here."""
    seen: dict[str, str] = {}
    for name, member in sorted(names.items()):
        if not (name.startswith("xl/tables/") and name.endswith(".xml")):
            continue
        with archive.open(member) as stream:
            found = _TABLE_NAME.search(stream.read(_XML_HEAD_BYTES))
        if found is None:
            continue
        table = found[1].decode("utf-8", "replace")
        if table.upper() in seen:
            raise WorkbookFileError(
                f"{label} contient deux tableaux nommés « {table} » : un tableau est identifié "
                "par son nom (il devient un élément XML) ; renommez l'un d'eux dans Excel "
                "(Création de tableau › Nom du tableau)."
            )
        seen[table.upper()] = name


def workbook_load(data: bytes, *, filename: str = "classeur", data_only: bool = False):
    """Open checked bytes with openpyxl (styles, formulas, names, validations kept)."""
    try:
        with warnings.catch_warnings():
            # openpyxl warns about every workbook feature it drops (slicers, extensions…)
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(
                io.BytesIO(data), data_only=data_only, rich_text=False, keep_links=False
            )
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
        raise WorkbookFileError(
            f"Le fichier « {filename} » n'a pas pu être lu comme un classeur Excel "
            f"({type(exc).__name__}) : {SAVE_AS_XLSX}."
        ) from exc


def workbook_open(data: bytes, filename: str, **caps):
    """``workbook_file_check`` then ``workbook_load``: the usual way to open an upload."""
    workbook_file_check(data, filename, **caps)
    return workbook_load(data, filename=filename)
