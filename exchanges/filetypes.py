"""What an uploaded file really is, read from its content (magic bytes), never from its name.

``detect(data)`` returns the :class:`FileKind` the bytes are, or ``None``: PDF, PNG, JPEG,
Office Open XML (told apart by the main part named in ``[Content_Types].xml``), OpenDocument
(the ``mimetype`` entry) and legacy Office files (OLE2 compound files, told apart by the
streams their directory lists). Zip archives are only read through their central directory
and two small entries inflated up to a few kilobytes, so a zip bomb costs nothing here.

``ACCEPTED`` lists what the exchange space takes; ``EXTENSIONS`` the names each may carry.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    code: str  # short name, also the usual extension
    label: str  # for people, in French
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("pdf", "document PDF", "application/pdf", ("pdf",))
PNG = FileKind("png", "image PNG", "image/png", ("png",))
JPEG = FileKind("jpeg", "image JPEG", "image/jpeg", ("jpg", "jpeg"))
DOCX = FileKind(
    "docx",
    "document Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ("docx",),
)
XLSX = FileKind(
    "xlsx",
    "classeur Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ("xlsx",),
)
PPTX = FileKind(
    "pptx",
    "présentation PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ("pptx",),
)
MACRO_OFFICE = FileKind(
    "office-macros", "fichier Office avec macros", "application/octet-stream", ()
)
ODT = FileKind("odt", "texte OpenDocument", "application/vnd.oasis.opendocument.text", ("odt",))
ODS = FileKind(
    "ods", "tableur OpenDocument", "application/vnd.oasis.opendocument.spreadsheet", ("ods",)
)
DOC = FileKind("doc", "document Word 97-2003", "application/msword", ("doc",))
XLS = FileKind("xls", "classeur Excel 97-2003", "application/vnd.ms-excel", ("xls",))
OLE_OTHER = FileKind("ole", "fichier Office d'un autre type", "application/octet-stream", ())

ACCEPTED: tuple[FileKind, ...] = (PDF, DOCX, XLSX, ODT, ODS, DOC, XLS, PNG, JPEG)
IMAGES: tuple[FileKind, ...] = (PNG, JPEG)
EXTENSIONS: dict[str, FileKind] = {ext: kind for kind in ACCEPTED for ext in kind.extensions}
ACCEPTED_LABEL = "PDF, Word, Excel, OpenDocument (texte ou tableur), PNG ou JPEG"

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_ENTRY_READ_LIMIT = 64 * 1024
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
    "application/vnd.ms-word.document.macroenabled.main+xml": MACRO_OFFICE,
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": MACRO_OFFICE,
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": MACRO_OFFICE,
    "application/vnd.ms-excel.template.macroenabled.main+xml": MACRO_OFFICE,
    "application/vnd.ms-excel.sheet.binary.macroenabled.main": MACRO_OFFICE,
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml": MACRO_OFFICE,
}
_ODF_TYPES = {ODT.content_type: ODT, ODS.content_type: ODS}
_CONTENT_TYPE_ATTR = re.compile(rb'ContentType\s*=\s*["\']([^"\']+)["\']')


def detect(data: bytes) -> FileKind | None:
    """The kind of file ``data`` is, from its content only; ``None`` when unknown."""
    if data.startswith(PDF_MAGIC):
        return PDF
    if data.startswith(PNG_MAGIC):
        return PNG
    if data.startswith(JPEG_MAGIC):
        return JPEG
    if data.startswith(ZIP_MAGIC):
        return _detect_zip(data)
    if data.startswith(OLE_MAGIC):
        return _detect_ole(data)
    return None


def _read_entry(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        with archive.open(name) as entry:
            return entry.read(_ENTRY_READ_LIMIT)
    except KeyError:
        return None


def _detect_zip(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            odf = _read_entry(archive, "mimetype")
            if odf is not None:
                return _ODF_TYPES.get(odf.strip().decode("ascii", "replace"))
            types = _read_entry(archive, "[Content_Types].xml")
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError, ValueError):
        return None  # RuntimeError: encrypted entry; ValueError: bad header fields
    except zlib.error:
        return None
    if types is None:
        return None
    for value in _CONTENT_TYPE_ATTR.findall(types):
        kind = _OOXML_MAIN_PARTS.get(value.decode("ascii", "replace").lower())
        if kind is not None:
            return kind
    return None


_OLE_FREE = 0xFFFFFFFA  # sector ids at or above this are markers (end of chain, free…)
_OLE_MAX_SECTORS = 1 << 20


def ole_stream_names(data: bytes) -> set[str]:
    """Names in an OLE2 compound file's directory (MS-CFB), read through its FAT; empty set
    when the structure is broken. Bounded: every chain is cut at the file's sector count."""
    try:
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        if shift not in (9, 12):
            return set()
        size = 1 << shift
        sectors = max(0, (len(data) - size) // size)
        (first_dir,) = struct.unpack_from("<I", data, 0x30)
        first_difat, difat_count = struct.unpack_from("<II", data, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _OLE_FREE]
        difat, seen = first_difat, 0
        while difat < _OLE_FREE and seen < min(difat_count, sectors):
            entries = struct.unpack_from(f"<{size // 4}I", data, (difat + 1) * size)
            fat_sectors += [s for s in entries[:-1] if s < _OLE_FREE]
            difat, seen = entries[-1], seen + 1
        fat: list[int] = []
        for sector in fat_sectors[:sectors]:
            fat += struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size)
        names: set[str] = set()
        sector, steps = first_dir, 0
        while sector < _OLE_FREE and steps <= min(sectors, _OLE_MAX_SECTORS):
            start = (sector + 1) * size
            for offset in range(start, start + size, 128):
                entry = data[offset : offset + 128]
                if len(entry) < 128 or entry[66] not in (1, 2, 5):
                    continue
                length = min(struct.unpack_from("<H", entry, 64)[0], 64)
                names.add(entry[: max(0, length - 2)].decode("utf-16-le", "replace"))
            sector = fat[sector] if sector < len(fat) else _OLE_FREE
            steps += 1
        return names
    except (struct.error, IndexError):
        return set()


def _detect_ole(data: bytes) -> FileKind:
    names = ole_stream_names(data)
    if "WordDocument" in names:
        return DOC
    if "Workbook" in names or "Book" in names:
        return XLS
    return OLE_OTHER


def extension(filename: str) -> str:
    """The lower-case extension of ``filename``, without the dot ('' when none)."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""
