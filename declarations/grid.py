"""A sheet of a dossier as an HTML table that looks like the Excel sheet.

Built as one string (no template per cell): the largest sheets hold several thousand cells and
must render in well under the 300 ms budget.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from html import escape

from forms_cms.fields import FieldInfo, TableMeta
from forms_cms.formats import format_cell, format_value

PX_PER_WIDTH_UNIT = 7.0  # Excel column width units → CSS pixels (Calibri 11)
ROW_HEADER_PX = 38
ACTIONS_PX = 112  # the column added for a table's row buttons when the table ends the sheet
FULL = ' aria-disabled="true"'
# the keyboard shortcuts of a table's rows (aria-keyshortcuts → as the page's help names them)
KEY_NAMES = {
    "Control+Enter": "Ctrl+Entrée",
    "Control+Shift+Enter": "Ctrl+Maj+Entrée",
    "Control+Delete": "Ctrl+Suppr",
    "Alt+ArrowUp": "Alt+↑",
    "Alt+ArrowDown": "Alt+↓",
}


HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
ALIGNS = ("left", "right", "center", "justify")


def _look(entry: dict, *, right: bool = False) -> str:
    """The classes of a cell's fill and alignment (`` bg-ffcc00 a-right``), never a style
    attribute: the Content-Security-Policy has no 'unsafe-inline' for styles. The alignments
    are in static/harmonia/sheet.css; the fills and sizes in the sheet's own stylesheet
    (``sheet_stylesheet``). ``right``: a number's default when the cell names no alignment."""
    names = ""
    if (fill := entry.get("fill")) and HEX_COLOR.fullmatch(fill):
        names += f" bg-{fill[1:].lower()}"
    align = entry.get("align", "right" if right else None)
    if align in ALIGNS:
        names += f" a-{align}"
    return names


def _height_class(height: float | None) -> str:
    return f' class="rh-{round(height * 4 / 3)}"' if height else ""


def _classes(entry: dict, base: str) -> str:
    names = [base]
    if entry.get("bold"):
        names.append("b")
    if entry.get("italic"):
        names.append("it")
    if entry.get("wrap"):
        names.append("w")
    return " ".join(names)


def merged_spans(
    merged: list, visible_rows: set[int], visible_cols: set[int], last_row: int, last_col: int
) -> tuple[dict[tuple[int, int], tuple[int, int, int, int]], set[tuple[int, int]]]:
    """Where each merged range is drawn: ``{anchor: (rows, cols, origin_row, origin_col)}`` and
    the cells it covers.

    The spans count only visible rows and columns (a range over hidden columns would otherwise
    push the cells on its right out of place), and the anchor is the range's first visible
    cell: a range whose top-left cell is hidden still shows that cell's text (the origin).
    A range entirely hidden, or beyond ``last_row``/``last_col``, covers its cells and draws
    nothing."""
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in merged:
        if r1 > last_row or c1 > last_col:
            continue
        r2, c2 = min(r2, last_row), min(c2, last_col)
        rows = [r for r in range(r1, r2 + 1) if r in visible_rows]
        cols = [c for c in range(c1, c2 + 1) if c in visible_cols]
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                covered.add((r, c))
        if rows and cols:
            anchor = (rows[0], cols[0])
            covered.discard(anchor)
            spans[anchor] = (len(rows), len(cols), r1, c1)
    return spans, covered


def label_text(entry: dict) -> str:
    """A label as Excel shows it: a number or date through the cell's format (layouts stored
    before ``v`` existed show their raw text)."""
    if "v" in entry:
        return format_cell(entry["v"], entry.get("fmt", ""))
    return entry.get("text", "")


@dataclass(frozen=True)
class GridTable:
    """A multivalued table as drawn in its sheet: its rows (stored input values) and their
    calculated columns, one dict per row."""

    meta: TableMeta
    rows: list[dict]
    computed: list[dict]

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def form_anchor(self) -> str:
        """The HTML id of the table's <form>, which its inputs and buttons name with form=."""
        return f"tb-{self.meta.name}"


@dataclass
class _Sheet:
    """What every drawn row needs from the layout."""

    visible_cols: list[int]
    heights: dict[int, float]
    cells: dict[tuple[int, int], dict]
    spans: dict
    covered: set
    next_col: dict
    widths_px: list[int]
    tables: dict[int, GridTable]  # by first data row
    action_cols: dict[str, int]  # table → the column of its row buttons
    notes: CellNotes | None = None


@dataclass(frozen=True)
class CellNotes:
    """What the grid says beside the cells: the values carried over when the dossier opened
    and not edited since (name → the id of the legend entry describing them, ``co-registry``
    or ``co-previous``), and the values that moved far from last year (name → message)."""

    carried: dict[str, str]
    variances: dict[str, str]


def _prepare(layout: dict, tables: list[GridTable], editable: bool) -> _Sheet:
    widths = layout.get("columns", [])
    max_row, max_col = layout["max_row"], layout["max_col"]
    heights = {row: height for row, height in layout.get("rows", [])}
    visible_cols = [c for c in range(1, max_col + 1) if c - 1 >= len(widths) or widths[c - 1] != 0]
    action_cols = {}
    for table in tables:
        last = max(c.column for c in table.meta.columns)
        after = [c for c in visible_cols if c > last]
        if not after and editable:  # the table ends the sheet: a column for its row buttons
            visible_cols.append(max(max_col, last) + 1)
            after = visible_cols[-1:]
        action_cols[table.name] = after[0] if after else 0
    template = set()
    for table in tables:
        template.update(range(table.meta.first_row, table.meta.last_row + 1))
    # a merged range over the template rows cannot follow the dossier's rows: not drawn
    merged = [m for m in layout.get("merged", []) if not template & set(range(m[0], m[2] + 1))]
    visible_rows = {r for r in range(1, max_row + 1) if heights.get(r) != 0}
    spans, covered = merged_spans(merged, visible_rows, set(visible_cols), max_row, max_col)
    widths_px = []
    for col in visible_cols:
        if col > max_col:
            widths_px.append(ACTIONS_PX)
            continue
        width = widths[col - 1] if col - 1 < len(widths) else 8.43
        widths_px.append(round(width * PX_PER_WIDTH_UNIT + 5))
    return _Sheet(
        visible_cols=visible_cols,
        heights=heights,
        cells={(e["r"], e["c"]): e for e in layout.get("cells", [])},
        spans=spans,
        covered=covered,
        next_col=dict(zip(visible_cols, [*visible_cols[1:], None], strict=True)),
        widths_px=widths_px,
        tables={t.meta.first_row: t for t in tables},
        action_cols=action_cols,
    )


def _plan(layout: dict, sheet: _Sheet) -> list[tuple]:
    """The drawn rows in order, with the row number shown: ``("row", sheet row, number)``,
    ``("data", table, index, number)`` (index -1: the blank row of an empty table) and
    ``("tool", table)`` (the table's buttons, unnumbered). Rows below a table are numbered
    as Excel would number them once the table holds the dossier's rows; static/harmonia/
    dossier_tables.js renumbers the same way after a change."""
    last_template = max((t.meta.last_row for t in sheet.tables.values()), default=0)
    plan: list[tuple] = []
    last_row = number = 0
    row = 1
    while row <= max(layout["max_row"], last_template):
        table = sheet.tables.get(row)
        if table is not None:
            number += row - last_row
            for index in range(max(len(table.rows), 1)):
                plan.append(("data", table, index if table.rows else -1, number + index))
            number += max(len(table.rows), 1) - 1
            plan.append(("tool", table))
            last_row = row = table.meta.last_row
        elif sheet.heights.get(row) != 0:
            number += row - last_row
            last_row = row
            plan.append(("row", row, number))
        row += 1
    return plan


def sheet_table(
    layout: dict,
    fields: dict[str, FieldInfo],
    values: dict,
    computed: dict,
    *,
    editable: bool,
    tables: list[GridTable] = (),
    notes: CellNotes | None = None,
) -> str:
    """The ``<table>`` of one sheet with the dossier's values; ``tables``: the multivalued
    tables of this sheet, drawn with the dossier's rows where their template rows stand;
    ``notes``: the marks of carried-over values and variance warnings."""
    sheet = _prepare(layout, list(tables), editable)
    sheet.notes = notes
    columns = [f'<col class="cw-{px}">' for px in sheet.widths_px]
    total = ROW_HEADER_PX + sum(sheet.widths_px)
    # a fixed layout needs the table's width: the columns then keep the sheet's widths
    out = [
        f'<table class="sheet tw-{total}" data-testid="sheet"><colgroup>'
        f'<col class="cw-{ROW_HEADER_PX}">',
        *columns,
        "</colgroup><tbody>",
    ]
    headers = {t.meta.header_row: t for t in tables if t.meta.header_row}
    for item in _plan(layout, sheet):
        if item[0] == "row":
            out.append(_sheet_row(sheet, item[1], item[2], fields, values, computed, editable,
                                  headers.get(item[1])))  # fmt: skip
        else:
            out.append(_table_item(sheet, item, editable))
    out.append("</tbody></table>")
    return "".join(out)


def table_rows_html(layout: dict, tables: list[GridTable], name: str, *, start: int) -> str:
    """The drawn rows of table ``name`` from row ``start`` on, and its buttons' row (editable):
    what replaces them on the page after a change of its rows."""
    sheet = _prepare(layout, tables, True)
    out = []
    for item in _plan(layout, sheet):
        if item[0] == "row" or item[1].name != name:
            continue
        if item[0] == "tool" or max(item[2], 0) >= start:  # -1: the blank row of an empty table
            out.append(_table_item(sheet, item, True))
    return "".join(out)


def _sheet_row(sheet, row, number, fields, values, computed, editable, header) -> str:
    style = _height_class(sheet.heights.get(row))
    out = [f'<tr data-sr="{row}"{style}><th class="rowhead">{number}</th>']
    for col in sheet.visible_cols:
        if (row, col) in sheet.covered:
            continue
        span = ""
        entry = sheet.cells.get((row, col))
        if (row, col) in sheet.spans:
            rows, cols, r1, c1 = sheet.spans[(row, col)]
            span = (f' rowspan="{rows}"' if rows > 1 else "") + (
                f' colspan="{cols}"' if cols > 1 else ""
            )
            entry = sheet.cells.get((r1, c1))
        if header is not None and _in_table(header, col):
            anchor = f' id="{escape(header.name)}"' if col == header.meta.columns[0].column else ""
            text = escape(label_text(entry)) if entry and entry["kind"] == "label" else ""
            # cut like any label when the column is narrow; the whole header on hover
            out.append(f'<td{anchor} class="tb-h"{span} title="{text}">{text}</td>')
            continue
        if entry is None:
            out.append(f"<td{span}></td>")
            continue
        kind = entry["kind"]
        if kind == "label":
            out.append(_label_cell(entry, span, row, sheet.next_col.get(col), sheet.cells,
                                   sheet.covered, sheet.spans))  # fmt: skip
        elif kind in ("input", "computed"):
            out.append(_field_cell(entry, fields, values, computed, editable, span, number,
                                   sheet.notes))  # fmt: skip
        else:
            out.append(f'<td class="f{_look(entry)}"{span}></td>')
    out.append("</tr>")
    return "".join(out)


def _in_table(table: GridTable, col: int) -> bool:
    return table.meta.columns[0].column <= col <= table.meta.columns[-1].column


def _table_item(sheet: _Sheet, item: tuple, editable: bool) -> str:
    if item[0] == "tool":
        return _tool_row(sheet, item[1]) if editable else ""
    _, table, index, number = item
    meta = table.meta
    by_col = {c.column: c for c in meta.columns}
    style = _height_class(sheet.heights.get(meta.first_row))
    first = f' data-sr="{meta.first_row}"' if index <= 0 else ""
    blank = index < 0
    attrs = f'data-tb="{escape(table.name)}" data-i="{max(index, 0)}"'
    out = [
        f"<tr {attrs}{first}{' data-blank' if blank else ''}{style}>"
        f'<th class="rowhead">{number}</th>'
    ]
    stored = {} if blank else table.rows[index]
    calculated = {} if blank or index >= len(table.computed) else table.computed[index]
    for col in sheet.visible_cols:
        column = by_col.get(col)
        if column is not None:
            entry = sheet.cells.get((meta.first_row, col), {})
            out.append(_column_cell(table, column, entry, index, number, stored, calculated,
                                    editable))  # fmt: skip
        elif editable and col == sheet.action_cols[table.name]:
            out.append(_row_buttons(table, index))
        else:
            out.append("<td></td>")
    out.append("</tr>")
    return "".join(out)


def _column_cell(table, info, entry, index, number, stored, calculated, editable) -> str:
    name = info.name
    position = f'data-f="{escape(name)}" data-r="{number}" data-c="{info.column}"'
    where = f"{escape(info.label)} — ligne {max(index, 0) + 1} du tableau {escape(table.name)}"
    history = f' data-h="{escape(table.name)}"'
    if info.computed:
        shown = escape(format_value(calculated.get(name), info.data_type, info.number_format))
        return (
            f'<td class="{_classes(entry, "c")} {info.data_type}{_look(entry)}"{history}'
            f' {position} title="{where}">{shown}</td>'
        )
    value = stored.get(name)
    shown = escape(format_value(value, info.data_type, info.number_format))
    control_attrs = (
        f'{position} data-tb="{escape(table.name)}" data-i="{max(index, 0)}" '
        f'name="c.{max(index, 0)}.{escape(name)}" form="{table.form_anchor}" aria-label="{where}"'
        f"{'' if editable else ' disabled'}"
    )
    if info.data_type == "choice":
        options = ['<option value=""></option>'] + [
            f"<option{' selected' if choice == value else ''}>{escape(choice)}</option>"
            for choice in info.choices
        ]
        control = f'<select class="cell" {control_attrs}>{"".join(options)}</select>'
    else:
        control = (
            f'<input class="cell" {control_attrs} data-t="{info.data_type}" value="{shown}" '
            'autocomplete="off">'
        )
    classes = f"{_classes(entry, 'i')} {info.data_type}{_look(entry)}"
    return f'<td class="{classes}"{history}>{control}</td>'


def _button(table, op: str, glyph: str, label: str, keys: str, *, disabled=False) -> str:
    return (
        f'<button type="submit" form="{table.form_anchor}" name="op" value="{op}" class="tb-btn" '
        f'title="{label} ({KEY_NAMES[keys]})" aria-label="{label}" aria-keyshortcuts="{keys}"'
        f"{' disabled data-off' if disabled else ''}>{glyph}</button>"
    )


def _row_buttons(table: GridTable, index: int) -> str:
    if index < 0:
        return '<td class="tb-act"></td>'
    line = f"la ligne {index + 1}"
    last = index == len(table.rows) - 1
    return (
        '<td class="tb-act"><span class="tb-btns">'
        + _button(table, f"insert:{index}", "+", f"Insérer une ligne au-dessus de {line}",
                  "Control+Shift+Enter")
        + _button(table, f"up:{index}", "↑", f"Monter {line}", "Alt+ArrowUp",
                  disabled=index == 0)
        + _button(table, f"down:{index}", "↓", f"Descendre {line}", "Alt+ArrowDown",
                  disabled=last)
        + _button(table, f"delete:{index}", "×", f"Supprimer {line}", "Control+Delete")
        + "</span></td>"
    )  # fmt: skip


def table_room(table: GridTable) -> str:
    """How many rows the table holds and may still take."""
    count, cap = len(table.rows), table.meta.max_rows
    if count >= cap:
        return f"Tableau complet : {cap} lignes au plus."
    left = cap - count
    rows = f"{count} ligne{'s' if count > 1 else ''}"
    return f"{rows} · encore {left} possible{'s' if left > 1 else ''} ({cap} au plus)."


def _tool_row(sheet: _Sheet, table: GridTable) -> str:
    meta = table.meta
    first, last = meta.columns[0].column, meta.columns[-1].column
    before = [c for c in sheet.visible_cols if c < first]
    inside = [c for c in sheet.visible_cols if first <= c <= last]
    after = len(sheet.visible_cols) - len(before) - len(inside)
    name = escape(table.name)
    room_id = f"tb-room-{name}"
    full = len(table.rows) >= meta.max_rows
    cells = "<td></td>" * len(before)
    cells += (
        f'<td class="tb-tool" colspan="{len(inside)}">'
        f'<button type="submit" form="{table.form_anchor}" name="op" value="add" '
        f'class="tb-add" aria-describedby="{room_id}"{FULL if full else ""}>'
        f"+ Ajouter une ligne</button> "
        f'<span class="tb-room" id="{room_id}" data-count="{len(table.rows)}" '
        f'data-cap="{meta.max_rows}">{escape(table_room(table))}</span>'
        f'<button type="submit" form="{table.form_anchor}" name="op" value="save" '
        'class="tb-add tb-nojs">'
        f"Enregistrer les saisies du tableau</button></td>"
    )
    cells += "<td></td>" * after
    return (
        f'<tr class="tb-tools" data-tb="{name}" data-tool data-end="{meta.last_row}">'
        f'<th class="rowhead"></th>{cells}</tr>'
    )


def _label_cell(entry, span, row, following, cells, covered, spans) -> str:
    text = escape(label_text(entry))
    classes = _classes(entry, "l")
    numeric = "v" in entry  # numbers stay in their cell, on the right unless aligned
    classes += _look(entry, right=numeric)
    wraps = bool(entry.get("wrap"))
    if text and span and not numeric and not wraps:
        classes += " w"  # a merged title wraps within its width rather than being cut
    elif (
        text and not (span or numeric or wraps) and _is_free(row, following, cells, covered, spans)
    ):
        classes += " ov"  # like Excel, text runs over the empty cell on its right
    return f'<td class="{classes}"{span}>{text}</td>'


def _is_free(row, col, cells, covered, spans) -> bool:
    if col is None or (row, col) in covered or (row, col) in spans:
        return False
    entry = cells.get((row, col))
    return entry is None or (entry["kind"] == "label" and not entry.get("text"))


def _notes_of(name: str, notes: CellNotes | None) -> tuple[str, str, str, str]:
    """(extra classes, aria-describedby ids, title suffix, note element) of a field's cell."""
    if notes is None:
        return "", "", "", ""
    classes, described, title, element = [], [], "", ""
    if legend := notes.carried.get(name):
        classes.append("co")
        described.append(legend)
    if message := notes.variances.get(name):
        classes.append("var")
        note_id = f"var-{escape(name)}"
        described.append(note_id)
        title = f" — {escape(message)}"
        element = f'<span class="fr-sr-only" id="{note_id}">{escape(message)}</span>'
    extra = (" " + " ".join(classes)) if classes else ""
    return extra, " ".join(described), title, element


def _field_cell(entry, fields, values, computed, editable, span, number, notes=None) -> str:
    name = entry["name"]
    info = fields.get(name)
    if info is None:
        return f"<td{span}></td>"
    attrs = f'data-n="{escape(name)}" data-r="{number}" data-c="{entry["c"]}"'
    label = escape(info.label)
    anchor = f' id="{escape(name)}"'  # verification results link to #NAME
    extra, described, title, note = _notes_of(name, notes)
    if info.computed:
        shown = escape(format_value(computed.get(name), info.data_type, info.number_format))
        return (
            f'<td{anchor} class="{_classes(entry, "c")} {info.data_type}{extra}{_look(entry)}" '
            f'{attrs}{span} title="{label}{title}">{shown}{note}</td>'
        )
    if described:
        attrs += f' aria-describedby="{described}"'
    stored = values.get(name)
    shown = escape(format_value(stored, info.data_type, info.number_format))
    seen = escape(json.dumps(stored))
    required = " required" if info.required else ""
    disabled = "" if editable else " disabled"
    if info.data_type == "choice":
        options = ['<option value=""></option>'] + [
            f"<option{' selected' if choice == stored else ''}>{escape(choice)}</option>"
            for choice in info.choices
        ]
        control = (
            f'<select class="cell" {attrs} data-seen="{seen}" aria-label="{label}"'
            f"{required}{disabled}>"
            f"{''.join(options)}</select>"
        )
    else:
        control = (
            f'<input class="cell" {attrs} data-t="{info.data_type}" data-seen="{seen}" '
            f'value="{shown}" '
            f'aria-label="{label}" autocomplete="off"{required}{disabled}>'
        )
    classes = f"{_classes(entry, 'i')} {info.data_type}{extra}{_look(entry)}"
    hint = f' title="{label}{title}"' if title else ""
    return f'<td{anchor} class="{classes}"{span}{hint}>{control}{note}</td>'


def sheet_stylesheet(layout: dict, tables: list[GridTable]) -> str:
    """The CSS of the classes a sheet's HTML uses for what the workbook sets cell by cell:
    fills (``bg-ffcc00``), column widths (``cw-75``), the table's width (``tw-1234``, read-only
    and editable) and row heights (``rh-20``). It depends on the layout and the tables' columns
    only (a stored form version never changes), so it is served once per sheet and cached.

    The selectors weigh more than sheet.css's own (``td.c.text``…) as the style attributes
    they replace did, without !important, which would stop the "updated" animation."""
    widths = {ROW_HEADER_PX}
    totals = set()
    for editable in (False, True):
        drawn = _prepare(layout, list(tables), editable)
        widths.update(drawn.widths_px)
        totals.add(ROW_HEADER_PX + sum(drawn.widths_px))
    heights = {round(height * 4 / 3) for _, height in layout.get("rows", []) if height}
    fills = {
        entry["fill"][1:].lower()
        for entry in layout.get("cells", [])
        if HEX_COLOR.fullmatch(entry.get("fill") or "")
    }
    rules = [f"table.sheet.tw-{px}{{width:{px}px}}" for px in sorted(totals)]
    rules += [f"table.sheet col.cw-{px}{{width:{px}px}}" for px in sorted(widths)]
    rules += [f"table.sheet tr.rh-{px}{{height:{px}px}}" for px in sorted(heights)]
    rules += [f"table.sheet td.bg-{c}.bg-{c}.bg-{c}{{background:#{c}}}" for c in sorted(fills)]
    return "\n".join(rules) + "\n"


def stylesheet_stamp(css: str) -> str:
    """A short digest of the stylesheet for its URL: a new layout gets a new address."""
    return hashlib.sha256(css.encode()).hexdigest()[:12]
