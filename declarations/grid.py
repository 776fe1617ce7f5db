"""A sheet of a dossier as an HTML table that looks like the Excel sheet.

Built as one string (no template per cell): the largest sheets hold several thousand cells and
must render in well under the 300 ms budget.
"""

from __future__ import annotations

import json
from html import escape

from forms_cms.fields import FieldInfo
from forms_cms.formats import format_cell, format_value

PX_PER_WIDTH_UNIT = 7.0  # Excel column width units → CSS pixels (Calibri 11)
ROW_HEADER_PX = 38


def _style(entry: dict, *extra: str) -> str:
    parts = [*extra]
    if fill := entry.get("fill"):
        parts.append(f"background:{fill}")
    if (align := entry.get("align")) in ("left", "right", "center", "justify"):
        parts.append(f"text-align:{align}")
    return f' style="{";".join(parts)}"' if parts else ""


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


def sheet_table(
    layout: dict,
    fields: dict[str, FieldInfo],
    values: dict,
    computed: dict,
    *,
    editable: bool,
) -> str:
    """The ``<table>`` of one sheet with the dossier's values."""
    widths = layout.get("columns", [])
    max_row, max_col = layout["max_row"], layout["max_col"]
    heights = {row: height for row, height in layout.get("rows", [])}
    visible_cols = [c for c in range(1, max_col + 1) if c - 1 >= len(widths) or widths[c - 1] != 0]
    visible_rows = [r for r in range(1, max_row + 1) if heights.get(r) != 0]
    spans, covered = merged_spans(
        layout.get("merged", []), set(visible_rows), set(visible_cols), max_row, max_col
    )
    cells = {(e["r"], e["c"]): e for e in layout.get("cells", [])}
    columns = []
    total = ROW_HEADER_PX
    for col in visible_cols:
        width = widths[col - 1] if col - 1 < len(widths) else 8.43
        px = round(width * PX_PER_WIDTH_UNIT + 5)
        total += px
        columns.append(f'<col style="width:{px}px">')
    # a fixed layout needs the table's width: the columns then keep the sheet's widths
    out = [
        f'<table class="sheet" data-testid="sheet" style="width:{total}px"><colgroup>'
        f'<col style="width:{ROW_HEADER_PX}px">',
        *columns,
        "</colgroup><tbody>",
    ]
    next_col = dict(zip(visible_cols, [*visible_cols[1:], None], strict=True))
    for row in visible_rows:
        height = heights.get(row)
        style = f' style="height:{round(height * 4 / 3)}px"' if height else ""
        out.append(f'<tr{style}><th class="rowhead">{row}</th>')
        for col in visible_cols:
            if (row, col) in covered:
                continue
            span = ""
            entry = cells.get((row, col))
            if (row, col) in spans:
                rows, cols, r1, c1 = spans[(row, col)]
                span = (f' rowspan="{rows}"' if rows > 1 else "") + (
                    f' colspan="{cols}"' if cols > 1 else ""
                )
                entry = cells.get((r1, c1))
            if entry is None:
                out.append(f"<td{span}></td>")
                continue
            kind = entry["kind"]
            if kind == "label":
                out.append(_label_cell(entry, span, row, next_col.get(col), cells, covered, spans))
            elif kind in ("input", "computed"):
                out.append(_field_cell(entry, fields, values, computed, editable, span))
            else:
                out.append(f'<td class="f"{span}{_style(entry)}></td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _label_cell(entry, span, row, following, cells, covered, spans) -> str:
    text = escape(label_text(entry))
    classes = _classes(entry, "l")
    numeric = "v" in entry  # numbers stay in their cell, on the right unless aligned
    style = _style(entry, "text-align:right") if numeric and "align" not in entry else _style(entry)
    wraps = bool(entry.get("wrap"))
    if text and span and not numeric and not wraps:
        classes += " w"  # a merged title wraps within its width rather than being cut
    elif (
        text and not (span or numeric or wraps) and _is_free(row, following, cells, covered, spans)
    ):
        classes += " ov"  # like Excel, text runs over the empty cell on its right
    return f'<td class="{classes}"{span}{style}>{text}</td>'


def _is_free(row, col, cells, covered, spans) -> bool:
    if col is None or (row, col) in covered or (row, col) in spans:
        return False
    entry = cells.get((row, col))
    return entry is None or (entry["kind"] == "label" and not entry.get("text"))


def _field_cell(entry, fields, values, computed, editable, span) -> str:
    name = entry["name"]
    info = fields.get(name)
    if info is None:
        return f"<td{span}></td>"
    attrs = f'data-n="{escape(name)}" data-r="{entry["r"]}" data-c="{entry["c"]}"'
    label = escape(info.label)
    anchor = f' id="{escape(name)}"'  # verification results link to #NAME
    if info.computed:
        shown = escape(format_value(computed.get(name), info.data_type, info.number_format))
        return (
            f'<td{anchor} class="{_classes(entry, "c")} {info.data_type}" {attrs}{span}'
            f'{_style(entry)} title="{label}">{shown}</td>'
        )
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
            f'<select {attrs} data-seen="{seen}" aria-label="{label}"{required}{disabled}>'
            f"{''.join(options)}</select>"
        )
    else:
        control = (
            f'<input {attrs} data-t="{info.data_type}" data-seen="{seen}" value="{shown}" '
            f'aria-label="{label}" autocomplete="off"{required}{disabled}>'
        )
    classes = f"{_classes(entry, 'i')} {info.data_type}"
    return f'<td{anchor} class="{classes}"{span}{_style(entry)}>{control}</td>'
