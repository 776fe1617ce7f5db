"""First look at an uploaded workbook (a form version, a filled support, a carry-over sheet,
an organism registry), before any XML parser touches it. Pure Python, no Django: every app
uses it (``forms_cms`` re-exports it from ``forms_cms.workbook``).

``workbook_file_check(data, filename)`` refuses, with a French message for the gestionnaire,
what is not an ``.xlsx``/``.xlsm`` workbook (text, PDF, OpenDocument, ``.xlsb``), legacy
``.xls`` files, password-protected workbooks and archives built to exhaust memory (zip bombs).

Only the zip's central directory is read (``ZipFile.infolist()``): the declared uncompressed
sizes are trustworthy bounds because ``zipfile`` never inflates a member beyond its declared
size. The first bytes of each XML part are inflated to refuse ``<!DOCTYPE`` declarations (an
Office file never has one; entity expansion is the XML flavour of a bomb).

Then the content: macros (``vbaProject.bin``, macro sheets, a macro-enabled content type —
``.xlsm``, ``.xltm``, ``.xlam`` — whatever the file's name), links to other workbooks
(``xl/externalLinks/``, external relationships other than hyperlinks), embedded OLE objects
(``xl/embeddings/``), ActiveX controls (``xl/activeX/``) and data connections are refused: the
platform serves uploaded workbooks to organisms, and none of these belongs in a form. Form
controls (``xl/ctrlProps/``: check boxes, drop-downs) hold no code and are accepted; a macro
assigned to one would live in ``vbaProject.bin``.

Last, the real extent: each worksheet part is streamed through expat (no tree, no DTD, no
entity, fixed-size chunks) to read its ``<dimension>``, ``<mergeCell>`` ranges and every
``<row>`` and ``<c>``; a declared or used cell beyond :class:`ExtentCaps`, too many cells or
too large merged ranges refuse the file at the first offending element, before openpyxl
(which allocates from the dimension in read-only mode and one object per merged cell
otherwise) reads anything. :func:`workbook_file_check` returns the measured
:class:`WorkbookExtent`, which readers use to bound their iteration.

``workbook_load(data)`` then opens the checked bytes with openpyxl, quietly (openpyxl warns
about every feature it drops), and turns openpyxl's own failures into the same French error.
"""

from __future__ import annotations

import io
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

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


@dataclass(frozen=True)
class ExtentCaps:
    """The largest workbook accepted (README « Upload limits »). The largest legitimate form,
    ER Sociaux (9,804 named cells), uses 356 rows, 17 columns, 13,500 cells and 314 merged
    cells; the Excel parity corpus at most 372 rows, 257 columns and 3,596 cells a file."""

    max_rows: int = 50_000  # last row number used or declared, per sheet
    max_columns: int = 1_024  # last column used or declared (AMJ), per sheet
    max_area: int = 5_000_000  # last row x last column used, per sheet
    max_cells: int = 100_000  # <c> elements in the whole workbook
    max_merged_cells: int = 100_000  # cells covered by merged ranges, whole workbook
    max_shared_strings: int = 100_000  # <si> elements of the shared strings
    max_elements: int = 500_000  # XML elements of the sheets and shared strings together
    max_xml_bytes: int = 64 * MB  # sheets and shared strings, uncompressed


# a list on one sheet (the organisms registry, carry-over rules): a few columns, a line each
LIST_CAPS = ExtentCaps(
    max_rows=20_000,
    max_columns=50,
    max_area=1_000_000,
    max_merged_cells=10_000,
    max_xml_bytes=32 * MB,
)


@dataclass
class SheetExtent:
    """What a worksheet part really holds: ``max_row``/``max_col`` from its cells and merged
    ranges (openpyxl makes a cell of each merged one), not from its declared dimension."""

    name: str
    part: str
    max_row: int = 0
    max_col: int = 0
    cells: int = 0
    rows: int = 0
    merged_cells: int = 0
    dimension: str = ""


@dataclass
class WorkbookExtent:
    sheets: list[SheetExtent] = field(default_factory=list)
    shared_strings: int = 0

    @property
    def cells(self) -> int:
        return sum(s.cells for s in self.sheets)

    def sheet(self, name: str) -> SheetExtent | None:
        return next((s for s in self.sheets if s.name == name), None)


class WorkbookFileError(Exception):
    """The uploaded file cannot be used as a form workbook; ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WorkbookUnreadable(WorkbookFileError):
    """Not a workbook at all, or a damaged one (as opposed to a workbook refused for what it
    holds): a caller with its own wording for unreadable files may use it instead."""


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
    extent_caps: ExtentCaps | None = None,
) -> WorkbookExtent:
    """Raise :class:`WorkbookFileError` unless ``data`` is a plausible, safe xlsx file within
    ``extent_caps``; return its measured extent."""
    label = f"Le fichier « {filename} »"
    if not data:
        raise WorkbookUnreadable(f"{label} est vide : déposez le classeur Excel du formulaire.")
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
        raise WorkbookUnreadable(
            f"{label} est un document PDF et non un classeur Excel : déposez le fichier .xlsx "
            "du formulaire."
        )
    if not data.startswith(b"PK"):
        raise WorkbookUnreadable(
            f"{label} n'est pas un classeur Excel (.xlsx) : déposez le fichier .xlsx du "
            "formulaire ; un export CSV, texte ou PDF ne convient pas."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise WorkbookUnreadable(
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
        names = {member.filename.lower(): member for member in members}
        _content_check(archive, names, label)
        return _extent_measure(archive, names, label, extent_caps or ExtentCaps())


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
        raise WorkbookUnreadable(
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
            raise WorkbookUnreadable(
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


# --- content that does not belong in a form: macros, links, embedded objects ----------------

_CONTENT_TYPES_BYTES = MB  # [Content_Types].xml of a real workbook: a few kB
_RELS_BYTES = 4 * MB  # one .rels part (a sheet with thousands of hyperlinks: a few hundred kB)
_HYPERLINK = "/hyperlink"
SAVE_AS_PLAIN_XLSX = (
    "enregistrez-le dans Excel au format « Classeur Excel (*.xlsx) » (« Fichier > Enregistrer "
    "sous ») puis déposez ce nouveau fichier"
)


def _content_check(archive: zipfile.ZipFile, names: dict, label: str) -> None:
    for name, member in sorted(names.items()):
        part = member.filename
        if name.endswith("vbaproject.bin") or name.startswith(
            ("xl/macrosheets/", "xl/dialogsheets/")
        ):
            raise WorkbookFileError(
                f"{label} contient des macros ({part}) : la plateforme n'accepte aucune macro ; "
                f"{SAVE_AS_PLAIN_XLSX} — Excel retire alors les macros."
            )
        if name.startswith("xl/externallinks/"):
            raise WorkbookFileError(
                f"{label} contient des liaisons vers d'autres classeurs ({part}) : dans Excel, "
                "« Données > Modifier les liens > Rompre la liaison », enregistrez, puis "
                "déposez-le à nouveau."
            )
        if name.startswith("xl/embeddings/"):
            raise WorkbookFileError(
                f"{label} contient un objet incorporé ({part} : document, objet OLE) : "
                "supprimez-le du classeur, enregistrez, puis déposez-le à nouveau."
            )
        if name.startswith("xl/activex/"):
            raise WorkbookFileError(
                f"{label} contient des contrôles ActiveX ({part}) : supprimez-les (Développeur > "
                "Mode Création, puis sélection et Suppr), enregistrez, puis déposez-le à nouveau."
            )
        if name in ("xl/connections.xml",) or name.startswith("xl/querytables/"):
            raise WorkbookFileError(
                f"{label} contient des connexions à des données externes ({part}) : supprimez-"
                "les (« Données > Requêtes et connexions »), enregistrez, puis déposez-le à "
                "nouveau."
            )
    types = names.get("[content_types].xml")
    if types is not None:
        with archive.open(types) as stream:
            text = stream.read(_CONTENT_TYPES_BYTES).lower()
        if b"macroenabled" in text or b"vbaproject" in text:
            raise WorkbookFileError(
                f"{label} est un classeur prenant en charge les macros (.xlsm, .xltm ou .xlam, "
                f"même renommé) : la plateforme n'accepte aucune macro ; {SAVE_AS_PLAIN_XLSX}."
            )
    for name, member in sorted(names.items()):
        if name.endswith(".rels"):
            _external_targets_check(archive, member, label)


def _external_targets_check(archive: zipfile.ZipFile, member, label: str) -> None:
    """Refuse relationships reaching outside the file, hyperlinks excepted."""

    def start(tag, attrs):
        if attrs.get("TargetMode") != "External" or tag.rpartition(":")[2] != "Relationship":
            return
        kind = attrs.get("Type") or ""
        if not kind.endswith(_HYPERLINK):
            target = (attrs.get("Target") or "")[:120]
            raise WorkbookFileError(
                f"{label} fait référence à un fichier extérieur ({member.filename} : {target}) : "
                "rompez les liaisons (« Données > Modifier les liens »), retirez les objets "
                "liés, enregistrez, puis déposez-le à nouveau."
            )

    if member.file_size > _RELS_BYTES:
        raise WorkbookFileError(
            f"{label} est refusé : la partie « {member.filename} » est démesurée "
            f"({_mb(member.file_size)}). Enregistrez-le à nouveau depuis Excel au format .xlsx."
        )
    _stream(archive, member, label, start)


# --- the real extent of each sheet, streamed -------------------------------------------------

_CHUNK = 64 * 1024
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,12})\$?(\d{1,15})$")
_COLUMNS: dict[str, int] = {}
CLEAN_SHEET = (
    "dans Excel, supprimez les lignes et les colonnes vides au-delà des données (sélectionnez-"
    "les, clic droit > Supprimer), enregistrez le classeur, puis déposez-le à nouveau"
)


def _column(letters: str) -> int:
    found = _COLUMNS.get(letters)
    if found is None:
        found = 0
        for char in letters.upper():
            found = found * 26 + ord(char) - 64
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = found
    return found


def _ref(text: str) -> tuple[int, int] | None:
    """(row, column) of ``B12``/``$B$12``, or None."""
    found = _CELL_REF.match(text.strip())
    if found is None:
        return None
    return int(found[2]), _column(found[1])


def _range(text: str) -> tuple[int, int, int, int] | None:
    """(min row, min column, max row, max column) of ``A1:C3`` or ``A1``, or None."""
    first, _, last = text.strip().partition(":")
    a, b = _ref(first), _ref(last or first)
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _stream(archive: zipfile.ZipFile, member, label: str, start) -> None:
    """Feed a part to expat in chunks; ``start(name, attrs)`` sees each element."""
    parser = expat.ParserCreate()  # names as written (``c``, or ``x:c`` with a prefix)
    parser.StartElementHandler = start

    def no_doctype(*_args):
        raise WorkbookFileError(
            f"{label} contient une partie XML non conforme (« {member.filename} » déclare un "
            "DOCTYPE, ce qu'Excel ne produit jamais) : enregistrez-le à nouveau depuis Excel "
            "au format .xlsx."
        )

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise WorkbookUnreadable(
            f"{label} est endommagé (partie « {member.filename} » illisible : XML incorrect, "
            f"ligne {exc.lineno}) : {SAVE_AS_XLSX}."
        ) from exc
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError) as exc:
        raise WorkbookUnreadable(
            f"{label} est endommagé (partie « {member.filename} » illisible) : {SAVE_AS_XLSX}."
        ) from exc


def _sheet_names(archive: zipfile.ZipFile, names: dict, label: str):
    """Worksheet part (lower case) → the sheet's name, from the workbook and its relationships;
    and the shared strings part the workbook points at (or None)."""
    by_id: dict[str, str] = {}
    targets: dict[str, str] = {}
    strings: list[str] = []

    def book_start(tag, attrs):
        if tag.rpartition(":")[2] == "sheet":
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), None)
            if rid is not None:
                by_id[rid] = attrs.get("name") or rid

    def rels_start(tag, attrs):
        if tag.rpartition(":")[2] == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[attrs.get("Id") or ""] = posixpath.normpath(path).lower()
            if (attrs.get("Type") or "").endswith("/sharedStrings"):
                strings.append(posixpath.normpath(path).lower())

    _stream(archive, names["xl/workbook.xml"], label, book_start)
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        _stream(archive, rels, label, rels_start)
    titles = {targets[rid]: name for rid, name in by_id.items() if rid in targets}
    return titles, (strings[0] if strings else None)


def _extent_measure(archive, names: dict, label: str, caps: ExtentCaps) -> WorkbookExtent:
    extent = WorkbookExtent()
    titles, strings_part = _sheet_names(archive, names, label)
    # every sheet the workbook points at (openpyxl follows the relationship wherever the part
    # lies), and any other part in the worksheets folder
    parts = sorted(
        {n for n in titles if n in names}
        | {n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    )
    strings = names.get(strings_part or "xl/sharedstrings.xml")
    streamed = sum(names[p].file_size for p in parts) + (strings.file_size if strings else 0)
    if streamed > caps.max_xml_bytes:
        raise WorkbookFileError(
            f"{label} est refusé : ses feuilles représentent {_mb(streamed)} de données une "
            f"fois décompressées, au-delà de la limite de {_mb(caps.max_xml_bytes)}. Supprimez "
            "les feuilles, lignes et mises en forme inutiles, enregistrez, puis déposez-le à "
            "nouveau."
        )
    total = {"cells": 0, "merged": 0, "elements": caps.max_elements}
    too_many = WorkbookFileError(
        f"{label} est refusé : ses feuilles comptent plus de {_count(caps.max_elements)} "
        "éléments XML, bien au-delà d'un classeur de formulaire. Enregistrez-le à nouveau depuis "
        "Excel après avoir supprimé le contenu inutile."
    )
    for part in parts:
        sheet = SheetExtent(name=titles.get(part, names[part].filename), part=names[part].filename)
        extent.sheets.append(sheet)
        _sheet_measure(archive, names[part], sheet, total, label, caps, too_many)
    if strings is not None:

        def string_start(tag, _attrs):
            total["elements"] -= 1
            if total["elements"] < 0:
                raise too_many
            if tag == "si" or tag.endswith(":si"):
                extent.shared_strings += 1
                if extent.shared_strings > caps.max_shared_strings:
                    raise WorkbookFileError(
                        f"{label} est refusé : il contient plus de "
                        f"{_count(caps.max_shared_strings)} textes différents. Un classeur de "
                        "formulaire n'en a jamais autant : enregistrez-le à nouveau depuis Excel."
                    )

        _stream(archive, strings, label, string_start)
    return extent


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _sheet_measure(archive, member, sheet: SheetExtent, total, label, caps, too_many) -> None:
    where = f"La feuille « {sheet.name} » du fichier {label[len('Le fichier ') :]}"
    state = [0, 0]  # current row, column (for cells and rows written without ``r``)
    max_rows, max_columns, max_cells = caps.max_rows, caps.max_columns, caps.max_cells

    def beyond(what: str) -> WorkbookFileError:
        return WorkbookFileError(
            f"{where} {what}, au-delà de la limite de {_count(max_rows)} lignes et "
            f"{_count(max_columns)} colonnes par feuille : {CLEAN_SHEET}."
        )

    def cell(attrs):
        ref = attrs.get("r")
        found = _ref(ref) if ref else None
        if found is not None:
            row, col = found
        elif ref:
            raise WorkbookUnreadable(
                f"{where} a une cellule d'adresse invalide (« {ref[:20]} ») : le fichier est "
                f"endommagé ; {SAVE_AS_XLSX}."
            )
        else:
            row, col = state[0], state[1] + 1
        state[1] = col
        if row > max_rows or col > max_columns:
            raise beyond(f"a une cellule en {ref or col}")
        sheet.cells += 1
        total["cells"] += 1
        if row > sheet.max_row:
            sheet.max_row = row
        if col > sheet.max_col:
            sheet.max_col = col
        if total["cells"] > max_cells:
            raise WorkbookFileError(
                f"{label} est refusé : il compte plus de {_count(max_cells)} cellules "
                f"(la feuille « {sheet.name} » en a déjà {_count(sheet.cells)}). Supprimez "
                "les cellules inutiles (mises en forme ou valeurs hors du formulaire), "
                "enregistrez, puis déposez-le à nouveau."
            )

    def row_start(attrs):
        text = attrs.get("r")
        row = int(text) if text and text.isdigit() else state[0] + 1
        state[0], state[1] = row, 0
        sheet.rows += 1
        if row > max_rows:
            raise beyond(f"a une ligne n° {_count(row)}")

    def merge(attrs):
        ref = attrs.get("ref") or ""
        bounds = _range(ref)
        if bounds is None:
            return
        r1, c1, r2, c2 = bounds
        if r2 > max_rows or c2 > max_columns:
            raise beyond(f"fusionne les cellules {ref}")
        sheet.max_row, sheet.max_col = max(sheet.max_row, r2), max(sheet.max_col, c2)
        sheet.merged_cells += (r2 - r1 + 1) * (c2 - c1 + 1)
        total["merged"] += (r2 - r1 + 1) * (c2 - c1 + 1)
        if total["merged"] > caps.max_merged_cells:
            raise WorkbookFileError(
                f"{where} fusionne trop de cellules ({ref}) : le classeur dépasse "
                f"{_count(caps.max_merged_cells)} cellules fusionnées. Annulez les fusions "
                "inutiles (Accueil > Fusionner et centrer), enregistrez, puis déposez-le "
                "à nouveau."
            )

    def dimension(attrs):
        ref = attrs.get("ref") or ""
        sheet.dimension = ref
        bounds = _range(ref)
        if bounds is not None and (bounds[2] > max_rows or bounds[3] > max_columns):
            raise beyond(f"déclare une zone utilisée jusqu'à {ref.partition(':')[2] or ref}")

    handlers = {"c": cell, "row": row_start, "mergeCell": merge, "dimension": dimension}

    def start(tag, attrs):
        total["elements"] -= 1
        if total["elements"] < 0:
            raise too_many
        handler = handlers.get(tag)
        if handler is None and ":" in tag:
            handler = handlers.get(tag.rpartition(":")[2])
        if handler is not None:
            handler(attrs)

    _stream(archive, member, label, start)
    if sheet.max_row * sheet.max_col > caps.max_area:
        raise WorkbookFileError(
            f"{where} s'étend sur {_count(sheet.max_row)} lignes et {_count(sheet.max_col)} "
            f"colonnes, au-delà de la limite de {_count(caps.max_area)} cellules de zone par "
            f"feuille : {CLEAN_SHEET}."
        )


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
