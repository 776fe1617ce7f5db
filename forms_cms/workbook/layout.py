"""The look of each sheet, as compact JSON-able dicts, to draw the form as a web page.

One dict per worksheet (hidden ones too, flagged ``hidden: True``)::

    {"name": "Bilan", "max_row": 40, "max_col": 6,
     "columns": [8.43, 42.0, …],          # width of columns 1..max_col, Excel units (0 = hidden)
     "rows": [[3, 30.0], …],               # [row, height in points] for rows that have one
     "merged": [[1, 1, 1, 6], …],          # [min_row, min_col, max_row, max_col]
     "cells": [{"r": 5, "c": 2, "kind": "label", "text": "Capital"},
               {"r": 5, "c": 4, "kind": "input", "name": "CAPITAL", "fmt": "#,##0.00"}, …]}

Cell kinds: ``label`` (an unnamed constant; ``text`` is its value as text; an empty cell
appears only when it has a solid fill), ``input`` and ``computed`` (named cells: ``name``;
``text`` holds an input's prefilled value), ``formula`` (an unnamed formula cell: an
intermediate result the engine computes by address). Optional keys appear only when they
differ from the default: ``fmt`` (number format unless General), ``bold``, ``italic``,
``wrap`` (True), ``fill`` (solid fill as ``#RRGGBB``, theme colours and tints resolved),
``align`` (horizontal alignment unless general), ``v`` (a label's constant when it is a
number, a date or a time: the number Excel holds, dates as serial numbers, so that it is shown
through ``fmt`` as Excel shows it — "0,13", "déc.-24"; ``text`` keeps the raw text).

Hidden columns have width 0 (hidden in Excel, collapsed in an outline group, or of width 0;
one ``<col min max>`` element may cover several columns) and hidden rows height 0. Readers
must accept layouts stored before a key existed: a missing optional key means its default
(no ``v``: the label is shown as its ``text``).
"""

from __future__ import annotations

import colorsys
import datetime as dt

from lxml import etree
from openpyxl.cell.cell import MergedCell
from openpyxl.styles.colors import COLOR_INDEX

from forms_cms.engine import date_to_serial
from forms_cms.workbook.cells import cell_at, display_text, formula_of, sheet_cells

DEFAULT_WIDTH = 8.43
_NS_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
# Excel's theme colour indexes: light 1 and dark 1 (and light 2 / dark 2) are swapped
_THEME_ORDER = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4")
_THEME_ORDER += ("accent5", "accent6", "hlink", "folHlink")


def sheet_layouts(wb, fields_by_cell: dict[tuple[str, int, int], str]) -> list[dict]:
    """Layouts of every worksheet; ``fields_by_cell`` maps (sheet, row, col) to field names."""
    palette = _theme_palette(wb)
    styles: dict = {}
    per_sheet: dict[str, dict[tuple[int, int], str]] = {}
    for (sheet, row, column), name in fields_by_cell.items():
        per_sheet.setdefault(sheet, {})[(row, column)] = name
    return [_sheet_layout(ws, per_sheet.get(ws.title, {}), palette, styles) for ws in wb.worksheets]


def _sheet_layout(ws, fields: dict[tuple[int, int], str], palette, styles) -> dict:
    cells = []
    max_row = max_col = 0
    for cell in sheet_cells(ws):
        key = (cell.row, cell.column)
        if key in fields or isinstance(cell, MergedCell):
            continue  # fields below; MergedCell placeholders carry nothing
        entry = _cell_entry(cell, None, palette, styles)
        if entry is not None:
            cells.append(entry)
    for (row, column), name in fields.items():
        cells.append(_cell_entry(cell_at(ws, row, column), name, palette, styles, row, column))
    cells.sort(key=lambda entry: (entry["r"], entry["c"]))
    merged = [[m.min_row, m.min_col, m.max_row, m.max_col] for m in ws.merged_cells.ranges]
    merged.sort()
    for entry in cells:
        max_row, max_col = max(max_row, entry["r"]), max(max_col, entry["c"])
    for _, _, last_row, last_col in merged:
        max_row, max_col = max(max_row, last_row), max(max_col, last_col)
    layout = {"name": ws.title}
    if ws.sheet_state != "visible":
        layout["hidden"] = True
    layout.update(
        max_row=max_row,
        max_col=max_col,
        columns=_column_widths(ws, max_col),
        rows=_row_heights(ws, max_row),
        merged=merged,
        cells=cells,
    )
    return layout


def _cell_entry(cell, name, palette, styles, row=None, column=None) -> dict | None:
    formula = formula_of(cell)
    value = None if cell is None or formula else cell.value
    if name is not None:
        entry = {"r": row, "c": column, "kind": "computed" if formula else "input", "name": name}
        if value is not None and display_text(value).strip():
            entry["text"] = display_text(value)
    elif formula:
        entry = {"r": cell.row, "c": cell.column, "kind": "formula"}
    else:
        entry = {"r": cell.row, "c": cell.column, "kind": "label"}
        if value is not None and display_text(value).strip():
            entry["text"] = display_text(value)
            number = _number_of(value)
            if number is not None:
                entry["v"] = number
    style = _style(cell, palette, styles) if cell is not None else {}
    if name is None and "text" not in entry and entry["kind"] == "label" and "fill" not in style:
        return None
    entry.update(style)
    return entry


def _number_of(value) -> float | int | None:
    """A numeric constant as Excel holds it (dates and times as serial numbers), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.datetime):
        day = date_to_serial(value.date())
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return day + seconds / 86400 if seconds else day
    if isinstance(value, dt.date):
        return date_to_serial(value)
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return None


def _style(cell, palette, cache) -> dict:
    if not cell.has_style:
        return {}
    key = tuple(cell._style)  # the cell's style indexes: equal tuples, equal looks
    found = cache.get(key)
    if found is None:
        found = {}
        if cell.number_format and cell.number_format != "General":
            found["fmt"] = cell.number_format
        font = cell.font
        if font is not None and font.b:
            found["bold"] = True
        if font is not None and font.i:
            found["italic"] = True
        fill = cell.fill
        if getattr(fill, "fill_type", None) == "solid":
            color = _color_hex(fill.fgColor, palette)
            if color:
                found["fill"] = color
        alignment = cell.alignment
        if alignment is not None:
            if alignment.horizontal and alignment.horizontal != "general":
                found["align"] = alignment.horizontal
            if alignment.wrap_text:
                found["wrap"] = True
        cache[key] = found
    return found


def _column_widths(ws, max_col: int) -> list[float]:
    default = ws.sheet_format.defaultColWidth or DEFAULT_WIDTH
    widths = [default] * max_col
    for dim in list(ws.column_dimensions.values()):
        first = dim.min or 0
        last = dim.max or first
        if not first:
            continue
        # one <col> element covers columns min..max (an outline group often is one element)
        for column in range(first, min(last, max_col) + 1):
            if dim.hidden or dim.width == 0:  # Excel hides a column of width 0 too
                widths[column - 1] = 0
            elif dim.width:
                widths[column - 1] = round(dim.width, 2)
    return widths


def _row_heights(ws, max_row: int) -> list[list]:
    heights = []
    for row, dim in sorted(ws.row_dimensions.items()):
        if row > max_row:
            continue
        if dim.hidden:
            heights.append([row, 0])
        elif dim.ht is not None:
            heights.append([row, round(dim.ht, 2)])
    return heights


# --- colours -------------------------------------------------------------------------------


def _color_hex(color, palette: list[str]) -> str | None:
    if color is None:
        return None
    kind = color.type
    if kind == "rgb" and isinstance(color.rgb, str) and len(color.rgb) >= 6:
        base = color.rgb[-6:].upper()
        if color.rgb.upper() == "00000000":
            return None  # openpyxl's "no colour"
    elif kind == "indexed" and isinstance(color.indexed, int):
        if color.indexed >= len(COLOR_INDEX) or color.indexed >= 64:
            return None  # system foreground/background
        base = COLOR_INDEX[color.indexed][-6:].upper()
    elif kind == "theme" and isinstance(color.theme, int) and color.theme < len(palette):
        base = palette[color.theme]
    else:
        return None
    return "#" + _tinted(base, color.tint or 0.0)


def _tinted(rgb: str, tint: float) -> str:
    """Excel's tint: darken (tint < 0) or lighten (tint > 0) the colour's luminance."""
    if not tint:
        return rgb
    r, g, b = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    light = light * (1 + tint) if tint < 0 else light * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(hue, min(max(light, 0.0), 1.0), sat)
    return "".join(f"{round(v * 255):02X}" for v in (r, g, b))


def _theme_palette(wb) -> list[str]:
    """The workbook theme's colours in Excel's theme-index order (Office defaults if none)."""
    palette = ["FFFFFF", "000000", "E7E6E6", "44546A", "4472C4", "ED7D31"]
    palette += ["A5A5A5", "FFC000", "5B9BD5", "70AD47", "0563C1", "954F72"]
    theme = getattr(wb, "loaded_theme", None)
    if not theme:
        return palette
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(theme, parser)
    except (etree.XMLSyntaxError, ValueError):
        return palette
    scheme = root.find(f".//{{{_NS_DRAWING}}}clrScheme")
    if scheme is None:
        return palette
    for index, tag in enumerate(_THEME_ORDER):
        slot = scheme.find(f"{{{_NS_DRAWING}}}{tag}")
        if slot is None or not len(slot):
            continue
        color = slot[0]
        value = color.get("lastClr") if color.tag.endswith("sysClr") else color.get("val")
        if value and len(value) == 6:
            palette[index] = value.upper()
    return palette


__all__ = ["DEFAULT_WIDTH", "sheet_layouts"]
