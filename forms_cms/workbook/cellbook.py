"""A filled workbook read lean: every cell's value and formula, names, tables (pure, no
Django).

openpyxl reads either the formulas or the values a spreadsheet saved with them, never both,
and builds an object per cell, style and name: on a 9,800-name support that is seconds. The
import needs both, for a few thousand cells, so this reads the parts it needs with lxml: the
workbook (sheets, defined names), each sheet's cells (value, formula — shared formulas
translated to each cell — and the saved result of a formula), the shared strings and the
Excel Tables. ``data`` must have passed ``workbook_file_check`` (size, zip extent, no DOCTYPE);
the parser loads no DTD, resolves no entity and reaches no network.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import zipfile
from dataclasses import dataclass, field

from lxml import etree
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries

from forms_cms.engine import date_to_serial

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_P = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class CellBookError(Exception):
    """The workbook's XML could not be read (a damaged file)."""


@dataclass
class CellTable:
    """An Excel Table as written in the file."""

    name: str
    sheet: str
    c1: int
    c2: int
    first_row: int  # first data row
    last_row: int  # last data row
    headers: list[str]


@dataclass
class CellBook:
    sheets: list[str]
    # (sheet, row, column) → (value, formula or None); a formula cell's value is the result
    # the spreadsheet saved with it (None when it saved none)
    cells: dict[tuple[str, int, int], tuple[object, str | None]] = field(default_factory=dict)
    names: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # NAME → cell
    constants: dict[str, str] = field(default_factory=dict)  # NAME → text of other names
    tables: dict[str, CellTable] = field(default_factory=dict)  # NAME → table

    def cell(self, sheet: str, row: int, column: int) -> tuple[object, str | None]:
        return self.cells.get((sheet, row, column), (None, None))


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _unquote(sheet: str) -> str:
    if sheet.startswith("'") and sheet.endswith("'"):
        return sheet[1:-1].replace("''", "'")
    return sheet


def cell_target(text: str, own: str | None) -> tuple[str, int, int] | None:
    """The one cell a defined name's text points at (``'Bilan actif'!$C$12``), or None."""
    text = text.strip().lstrip("=")
    if "," in text:
        return None
    sheet, _, coord = text.rpartition("!")
    sheet = _unquote(sheet) if sheet else own
    coord = coord.replace("$", "")
    if sheet is None or not coord or ":" in coord:
        return None
    try:
        col, row, *_ = range_boundaries(coord)
    except (ValueError, TypeError):
        return None
    if col is None or row is None:
        return None
    return sheet, row, col


def _rels(archive, names, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, target part path)."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in names:
        return {}
    root = etree.fromstring(archive.read(rels_part), _parser())
    out = {}
    for rel in root.iter(f"{_P}Relationship"):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[rel.get("Id")] = (rel.get("Type") or "", posixpath.normpath(path))
    return out


def cell_book(data: bytes) -> CellBook:
    """Read ``data`` (an xlsx) lean; raises :class:`CellBookError` when it cannot."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _read(archive)
    except (etree.XMLSyntaxError, KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise CellBookError(str(exc)) from exc


def _read(archive: zipfile.ZipFile) -> CellBook:
    names = set(archive.namelist())
    workbook_part = "xl/workbook.xml"
    book_rels = _rels(archive, names, workbook_part)
    root = etree.fromstring(archive.read(workbook_part), _parser())
    sheets: list[tuple[str, str]] = []
    for sheet in root.iter(f"{_M}sheet"):
        target = book_rels.get(sheet.get(f"{_R}id"))
        if target is not None:
            sheets.append((sheet.get("name"), target[1]))
    book = CellBook(sheets=[title for title, _ in sheets])
    local: list[tuple[str, str, str]] = []
    for dn in root.iter(f"{_M}definedName"):
        name, text = dn.get("name") or "", dn.text or ""
        scope = dn.get("localSheetId")
        if scope is not None:
            index = int(scope)
            if 0 <= index < len(book.sheets):
                local.append((name, text, book.sheets[index]))
            continue
        where = cell_target(text, None)
        if where is not None:
            book.names[name.upper()] = where
        else:
            book.constants[name.upper()] = text
    for name, text, own in local:  # sheet-scoped names, where no workbook one has the name
        where = cell_target(text, own)
        if where is not None:
            book.names.setdefault(name.upper(), where)
    shared = _shared_strings(archive, names, book_rels)
    named: dict[str, set[tuple[int, int]]] = {}
    for sheet, row, col in book.names.values():
        named.setdefault(sheet, set()).add((row, col))
    for title, part in sheets:
        if part not in names:
            continue
        areas = []
        for kind, target in _rels(archive, names, part).values():
            if kind.endswith("/table") and target in names:
                table = _table(archive.read(target), title)
                if table is not None:
                    book.tables[table.name.upper()] = table
                    areas.append((table.first_row, table.last_row, table.c1, table.c2))
        here = named.get(title, set())

        def keep(row: int, col: int, here=here, areas=areas) -> bool:
            # only the cells the import reads: named ones and the tables' data rows (a
            # hostile sheet of millions of cells costs no memory)
            return (row, col) in here or any(
                r1 <= row <= r2 and c1 <= col <= c2 for r1, r2, c1, c2 in areas
            )

        with archive.open(part) as stream:
            _sheet_cells(stream, title, shared, book.cells, keep)
    return book


def _shared_strings(archive, names, book_rels) -> list[str]:
    part = next((t for k, t in book_rels.values() if k.endswith("/sharedStrings")), None)
    if part is None or part not in names:
        return []
    root = etree.fromstring(archive.read(part), _parser())
    out = []
    for si in root.iter(f"{_M}si"):
        # the text runs, not the phonetic guides (rPh)
        runs = (t for t in si.iter(f"{_M}t") if t.getparent().tag != f"{_M}rPh")
        out.append("".join(t.text or "" for t in runs))
    return out


def _sheet_cells(stream, title: str, shared: list[str], cells: dict, keep) -> None:
    """The sheet's cells, streamed (each row freed once read: memory stays small whatever
    the sheet's size)."""
    masters: dict[str, tuple[str, str]] = {}  # shared formula index → (formula, its cell)
    row_number = 0
    events = etree.iterparse(
        stream, events=("end",), tag=f"{_M}row", resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=False,
    )  # fmt: skip
    for _event, row in events:
        row_number = int(row.get("r") or row_number + 1)
        column = 0
        for c in row.iterchildren(f"{_M}c"):
            coord = c.get("r")
            if coord:
                row_number, column = coordinate_to_tuple(coord)
            else:
                column += 1
                coord = f"{get_column_letter(column)}{row_number}"
            f = c.find(f"{_M}f")
            text = None if f is None else f.text
            shared_index = None if f is None or f.get("t") != "shared" else f.get("si")
            if shared_index is not None and text:
                masters[shared_index] = (text, coord)
            if not keep(row_number, column):
                continue
            if shared_index is not None and not text and shared_index in masters:
                master, origin = masters[shared_index]
                text = Translator("=" + master, origin=origin).translate_formula(coord)[1:]
            formula = "=" + text if text else None
            value = _value(c, shared)
            if value is not None or formula is not None:
                cells[(title, row_number, column)] = (value, formula)
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]


def _value(c, shared: list[str]):
    kind = c.get("t", "n")
    if kind == "inlineStr":
        node = c.find(f"{_M}is")
        return "".join(t.text or "" for t in node.iter(f"{_M}t")) if node is not None else None
    v = c.find(f"{_M}v")
    if v is None or v.text is None:
        return "" if kind == "str" and c.find(f"{_M}f") is not None else None
    text = v.text
    if kind == "s":
        index = int(text)
        return shared[index] if 0 <= index < len(shared) else ""
    if kind == "str":
        return text
    if kind == "b":
        return text.strip() == "1"
    if kind == "e":
        return {"error": text}
    if kind == "d":  # an ISO date (written by some tools): its serial number
        return float(date_to_serial(dt.date.fromisoformat(text[:10])))
    try:
        return float(text)
    except ValueError:
        return text


def _table(content: bytes, sheet: str) -> CellTable | None:
    root = etree.fromstring(content, _parser())
    name = root.get("displayName") or root.get("name")
    ref = root.get("ref")
    if not name or not ref:
        return None
    c1, r1, c2, r2 = range_boundaries(ref)
    header = int(root.get("headerRowCount", "1"))
    totals = int(root.get("totalsRowCount", "0"))
    headers = [(col.get("name") or "").strip() for col in root.iter(f"{_M}tableColumn")]
    return CellTable(name, sheet, c1, c2, r1 + header, r2 - totals, headers)
