"""A sheet of a dossier as an HTML table that looks like the Excel sheet.

Built as one string (no template per cell): the largest sheets hold several thousand cells and
must render in well under the 300 ms budget.
"""

from __future__ import annotations

import json
from html import escape

from forms_cms.fields import FieldInfo
from forms_cms.formats import format_value

PX_PER_WIDTH_UNIT = 7.0  # Excel column width units → CSS pixels (Calibri 11)
ROW_HEADER_PX = 38


def _style(entry: dict) -> str:
    parts = []
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
    hidden_cols = {i + 1 for i, w in enumerate(widths) if w == 0}
    heights = {row: height for row, height in layout.get("rows", [])}
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in layout.get("merged", []):
        spans[(r1, c1)] = (r2 - r1 + 1, c2 - c1 + 1)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    covered.add((r, c))
    cells = {(e["r"], e["c"]): e for e in layout.get("cells", [])}
    columns = []
    total = ROW_HEADER_PX
    for col in range(1, max_col + 1):
        if col in hidden_cols:
            continue
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
    for row in range(1, max_row + 1):
        height = heights.get(row)
        if height == 0:
            continue
        style = f' style="height:{round(height * 4 / 3)}px"' if height else ""
        out.append(f'<tr{style}><th class="rowhead">{row}</th>')
        for col in range(1, max_col + 1):
            if col in hidden_cols or (row, col) in covered:
                continue
            span = ""
            if (row, col) in spans:
                rows, cols = spans[(row, col)]
                span = (f' rowspan="{rows}"' if rows > 1 else "") + (
                    f' colspan="{cols}"' if cols > 1 else ""
                )
            entry = cells.get((row, col))
            if entry is None:
                out.append(f"<td{span}></td>")
                continue
            kind = entry["kind"]
            if kind == "label":
                text = escape(entry.get("text", ""))
                classes = _classes(entry, "l")
                if text and not span and (row, col + 1) not in cells:
                    classes += " ov"  # like Excel, text runs over the empty cell on its right
                out.append(f'<td class="{classes}"{_style(entry)}>{text}</td>')
            elif kind in ("input", "computed"):
                out.append(_field_cell(entry, fields, values, computed, editable, span))
            else:
                out.append(f'<td class="f"{span}{_style(entry)}></td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


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
