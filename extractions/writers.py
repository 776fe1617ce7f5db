"""The four files of an extraction, each written row by row into a file on disk as the
dossiers come (:mod:`extractions.sources`): nothing holds all the values at once.

- CSV « long »: one line per dossier × field that has a value (tables: one line per row ×
  column, with the row number), zipped;
- CSV « large »: one line per dossier, one column per field, three header lines (name, label,
  sheet); each multivalued table in its own CSV keyed by SIREN and row number; all zipped;
- XLSX « large »: the same in one workbook, a sheet per table (XlsxWriter in constant-memory
  mode: each row is flushed to disk once written);
- XML: one harmonised XML per dossier (``forms_cms.xmlformat.dossier_xml``), zipped.

CSV files are UTF-8 with a BOM and ``;`` separators, as the workspace export.
"""

from __future__ import annotations

import csv
import pickle
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack

import xlsxwriter

from extractions.layout import (
    DOSSIER_HEADERS,
    LONG_HEADERS,
    NUMERIC,
    Layout,
    csv_cell,
    quoted,
    serial_date,
    table_row_cells,
)
from extractions.sources import Entry
from forms_cms.fields import version_tables
from forms_cms.xmlformat import dossier_xml, table_rows

# a zip's entries are deflated fast: the files are large and mostly digits
ZIP = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 1, "allowZip64": True}
XLSX_MAX_COLUMNS = 16384
MSG_TOO_MANY_COLUMNS = (
    "Ce formulaire a {count} champs : une feuille Excel en admet {max} colonnes au plus. "
    "Choisissez le CSV « large » ou « long »."
)

Progress = Callable[[int], None]  # called with the number of dossiers written so far


class TooWide(ValueError):
    pass


class _CsvEntry:
    """A CSV file inside the zip, UTF-8 with a BOM: text written here is encoded at once and
    deflated by a second thread (zlib lets go of the interpreter while it compresses, so the
    rows of the next dossier are put together meanwhile)."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.raw = zf.open(name, "w", force_zip64=True)
        self.queue: queue.Queue = queue.Queue(maxsize=8)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()
        self.write("\ufeff")

    def _drain(self) -> None:
        while (block := self.queue.get()) is not None:
            if self.failure is None:
                try:
                    self.raw.write(block)
                except BaseException as exc:  # noqa: BLE001 - raised again in the writer
                    self.failure = exc

    def write(self, text: str) -> None:
        if self.failure is not None:
            raise self.failure
        if text:
            self.queue.put(text.encode("utf-8"))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.queue.put(None)
        self.thread.join()
        self.raw.close()
        if self.failure is not None and exc[0] is None:
            raise self.failure


def _csv_stream(zf: zipfile.ZipFile, name: str) -> _CsvEntry:
    return _CsvEntry(zf, name)


def _writer(stream):
    return csv.writer(stream, delimiter=";", lineterminator="\r\n")


def _cells(entry: Entry, layout: Layout) -> Iterable:
    values, computed = entry.dossier.values, entry.dossier.computed
    for info in layout.fields:
        yield info, (computed if info.computed else values).get(info.name)


def _tables(entry: Entry, layout: Layout):
    dossier = entry.dossier
    for meta in layout.tables:
        rows = table_rows(dossier, meta.name) if meta.name in _version_tables(dossier) else []
        yield meta, table_row_cells(meta, rows, dossier.computed.get(meta.name))


def _version_tables(dossier) -> set[str]:
    return set(version_tables(dossier.form_version))


def _line(cells) -> str:
    """Fixed cells as CSV text (no line end)."""
    return ";".join(quoted(str(c)) for c in cells)


def _single_cells(layout: Layout):
    """(field name, computed?, value -> CSV cell) of each single-cell field."""
    return [(info.name, info.computed, csv_cell(info)) for info in layout.fields]


def long_csv(entries: Iterable[Entry], layout: Layout, path: str, stem: str, progress: Progress):
    # each line is put together from text made once per field, per dossier and per row: the
    # csv module would quote millions of cells that never need it
    singles = [
        (_line((info.sheet, "", "", info.name, info.label)) + ";", name, is_computed, cell)
        for info, (name, is_computed, cell) in zip(
            layout.fields, _single_cells(layout), strict=True
        )
    ]
    columns = {
        meta.name: (
            _line((meta.sheet, meta.name)) + ";",
            [(_line((c.name, c.label)) + ";", c.name, csv_cell(c)) for c in meta.columns],
        )
        for meta in layout.tables
    }
    with zipfile.ZipFile(path, "w", **ZIP) as zf, _csv_stream(zf, f"{stem}.csv") as stream:
        stream.write(_line(LONG_HEADERS) + "\r\n")
        for done, entry in enumerate(entries, 1):
            head = _line(entry.head) + ";"
            values, computed = entry.dossier.values, entry.dossier.computed
            parts = []
            for prefix, name, is_computed, cell in singles:
                text = cell((computed if is_computed else values).get(name))
                if text:
                    parts.append(f"{head}{prefix}{text}\r\n")
            for meta, rows in _tables(entry, layout):
                table_prefix, table_columns = columns[meta.name]
                for number, cells in rows:
                    row_head = f"{head}{table_prefix}{number};"
                    for prefix, name, cell in table_columns:
                        text = cell(cells.get(name))
                        if text:
                            parts.append(f"{row_head}{prefix}{text}\r\n")
            stream.write("".join(parts))
            progress(done)


def _header_lines(first: list[str], columns) -> list[list[str]]:
    """Name, label and sheet of each column, after the dossier's own columns."""
    return [
        [*first, *(c.name for c in columns)],
        [*first, *(c.label or c.name for c in columns)],
        [*first, *(c.sheet for c in columns)],
    ]


def _table_first(meta) -> list[str]:
    return ["SIREN", "Ligne"]


def wide_csv(entries: Iterable[Entry], layout: Layout, path: str, stem: str, progress: Progress):
    singles = _single_cells(layout)
    table_cells = {
        meta.name: [(c.name, csv_cell(c)) for c in meta.columns] for meta in layout.tables
    }
    with ExitStack() as stack:
        zf = stack.enter_context(zipfile.ZipFile(path, "w", **ZIP))
        # the tables' files are written beside the main one, then added to the zip
        spools = {}
        for meta in layout.tables:
            spool = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))
            _writer(spool).writerows(_header_lines(_table_first(meta), meta.columns))
            spools[meta.name] = spool
        with _csv_stream(zf, f"{stem}.csv") as stream:
            _writer(stream).writerows(_header_lines(DOSSIER_HEADERS, layout.fields))
            for done, entry in enumerate(entries, 1):
                values, computed = entry.dossier.values, entry.dossier.computed
                cells = ";".join(
                    cell((computed if is_computed else values).get(name))
                    for name, is_computed, cell in singles
                )
                stream.write(f"{_line(entry.head)};{cells}\r\n")
                siren = quoted(entry.dossier.organism.siren)
                for meta, rows in _tables(entry, layout):
                    columns = table_cells[meta.name]
                    spools[meta.name].write(
                        "".join(
                            f"{siren};{number};"
                            + ";".join(cell(row.get(name)) for name, cell in columns)
                            + "\r\n"
                            for number, row in rows
                        )
                    )
                progress(done)
        for name, spool in spools.items():
            spool.seek(0)
            with _csv_stream(zf, f"{stem}-liste-{name}.csv") as stream:
                while block := spool.read(1 << 20):
                    stream.write(block)


SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = SHEET_NAME_BAD.sub("_", name)[:31] or "Liste"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(candidate.lower())
    return candidate


class _XlsxColumns:
    """How to write each column's cells: typed numbers, dates, text (never as a formula)."""

    def __init__(self, workbook, columns):
        date = workbook.add_format({"num_format": "dd/mm/yyyy"})
        percent = workbook.add_format({"num_format": "0.00%"})
        self.kinds = []
        for c in columns:
            if c.data_type == "date":
                self.kinds.append(("date", date))
            elif c.data_type == "percentage":
                self.kinds.append(("number", percent))
            elif c.data_type in NUMERIC:
                self.kinds.append(("number", None))
            else:
                self.kinds.append(("text", None))

    def write(self, ws, row: int, first: int, values) -> None:
        for col, ((kind, fmt), value) in enumerate(zip(self.kinds, values, strict=True), first):
            if value is None or value == "":
                continue
            cls = value.__class__
            if cls is dict:
                ws.write_string(row, col, str(value.get("error", "#ERREUR")))
            elif cls is bool:
                ws.write_boolean(row, col, value)
            elif cls in (int, float):
                if kind == "date" and (day := serial_date(value)) is not None:
                    ws.write_datetime(row, col, day, fmt)
                elif value != value or value in (float("inf"), float("-inf")):
                    ws.write_string(row, col, "#NOMBRE!")
                elif fmt is not None:
                    ws.write_number(row, col, value, fmt)
                else:
                    ws.write_number(row, col, value)
            else:
                ws.write_string(row, col, str(value))


def _xlsx_headers(ws, bold, first, columns) -> None:
    for row, line in enumerate(_header_lines(first, columns)):
        ws.write_row(row, 0, line, bold)


def wide_xlsx(entries: Iterable[Entry], layout: Layout, path: str, stem: str, progress: Progress):
    if len(layout.fields) + len(DOSSIER_HEADERS) > XLSX_MAX_COLUMNS:
        raise TooWide(MSG_TOO_MANY_COLUMNS.format(count=len(layout.fields), max=XLSX_MAX_COLUMNS))
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    try:
        bold = workbook.add_format({"bold": True})
        used: set[str] = set()
        main = workbook.add_worksheet(_sheet_name("Dossiers", used))
        # constant-memory mode writes rows in order, sheet by sheet: tables go to temporary
        # CSV files first, then to their sheets once every dossier is written
        sheets = [
            (meta, workbook.add_worksheet(_sheet_name(meta.name, used))) for meta in layout.tables
        ]
        _xlsx_headers(main, bold, DOSSIER_HEADERS, layout.fields)
        main.freeze_panes(3, 2)
        columns = _XlsxColumns(workbook, layout.fields)
        with ExitStack() as stack:
            spools = {
                meta.name: stack.enter_context(tempfile.TemporaryFile("w+b")) for meta, _ in sheets
            }
            for done, entry in enumerate(entries, 1):
                row = done + 2
                main.write_row(row, 0, entry.head)
                columns.write(
                    main, row, len(DOSSIER_HEADERS), (v for _, v in _cells(entry, layout))
                )
                siren = entry.dossier.organism.siren
                for meta, rows in _tables(entry, layout):
                    spool = spools[meta.name]
                    for number, cells in rows:
                        _pickle_row(
                            spool, [siren, number, *(cells.get(c.name) for c in meta.columns)]
                        )
                progress(done)
            for meta, ws in sheets:
                _xlsx_headers(ws, bold, _table_first(meta), meta.columns)
                ws.freeze_panes(3, 2)
                table_columns = _XlsxColumns(workbook, meta.columns)
                spool = spools[meta.name]
                spool.seek(0)
                for line, values in enumerate(_unpickle_rows(spool), 3):
                    ws.write_row(line, 0, values[:2])
                    table_columns.write(ws, line, 2, values[2:])
    finally:
        workbook.close()


def _pickle_row(spool, values) -> None:
    pickle.dump(values, spool, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickle_rows(spool):
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - our own temporary file
        except EOFError:
            return


def xml_zip(entries: Iterable[Entry], layout: Layout, path: str, stem: str, progress: Progress):
    with zipfile.ZipFile(path, "w", **ZIP) as zf:
        for done, entry in enumerate(entries, 1):
            zf.writestr(f"{entry.dossier.document_stem}.xml", dossier_xml(entry.dossier))
            progress(done)


WRITERS = {
    "long_csv": (long_csv, ".zip"),
    "wide_csv": (wide_csv, ".zip"),
    "wide_xlsx": (wide_xlsx, ".xlsx"),
    "xml_zip": (xml_zip, ".zip"),
}
