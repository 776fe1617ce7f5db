"""A dossier as a printable PDF: each visible sheet as a table, French formats, a header and
page numbers on every page.

:func:`render_pdf` works on plain data (header dict, sheet layouts, field infos, values), so it
can be measured without a database (``bench/bench_pdf_er.py``); :func:`dossier_pdf` feeds it
from a :class:`workflow.models.Dossier`.

Each sheet is laid out by WeasyPrint as its own document — so progress can be reported sheet by
sheet — and the pages are then written as one PDF. "page X / Y" needs the total, known only at
the end: it is drawn on each page while the PDF is written (:func:`_stamp_page_numbers`).

The HTML is built as one string per sheet with a handful of class names and no per-cell
styles: WeasyPrint's cost grows with the number of boxes and declarations, and a full ER
Sociaux holds some 16,000 cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from html import escape

from django.utils import timezone

from declarations.grid import label_text, merged_spans
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import format_value
from forms_cms.services.runtime import compiled_form, table_rows_stored

# A4 landscape, in millimetres
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 297.0, 210.0
MARGIN_TOP_MM, MARGIN_SIDE_MM, MARGIN_BOTTOM_MM = 16.0, 10.0, 12.0
PX_PER_MM = 96 / 25.4
CONTENT_WIDTH_PX = (PAGE_WIDTH_MM - 2 * MARGIN_SIDE_MM) * PX_PER_MM
PX_PER_WIDTH_UNIT = 7.0  # Excel column width units → CSS pixels (as on the web page)
DEFAULT_COLUMN_WIDTH = 8.43
BASE_FONT_PT = 8.0
MIN_FONT_PT = 5.0
PAGE_NUMBER_FONT_PT = 7.0
DEFAULT_STEP = "Saisie en cours"

Progress = Callable[[int, int], None]

STYLE = """
html { font-family: "DejaVu Sans Condensed", "DejaVu Sans", "Liberation Sans", sans-serif;
  font-size: %(font)spt; color: #111; }
body { margin: 0; }
h1 { font-size: 11pt; margin: 0 0 2mm; bookmark-level: 1; }
h1 small { font-weight: normal; font-size: 8pt; color: #555; }
p.none { font-style: italic; color: #555; }
table { border-collapse: collapse; table-layout: fixed; }
table.multi { width: 100%%; margin-top: 4mm; }
table.multi thead { display: table-header-group; }
table.multi th { text-align: left; border-bottom: 1px solid #000; }
td { padding: 0.25mm 0.8mm; vertical-align: middle; overflow-wrap: anywhere; }
td.v { border: 0.5pt solid #999; text-align: right; white-space: nowrap; background: #fff; }
td.k { background: #eef3e6; }
td.t { text-align: left; white-space: normal; }
td.x { font-weight: bold; }
td.y { font-style: italic; }
td.L { text-align: left; } td.C { text-align: center; } td.R { text-align: right; }
tr.e { height: 3.5mm; }
@page {
  size: A4 landscape;
  margin: %(top)smm %(side)smm %(bottom)smm %(side)smm;
  @top-left { content: %(top_left)s; font-size: 7.5pt; color: #333;
    vertical-align: bottom; padding-bottom: 3mm; }
  @top-right { content: %(top_right)s; font-size: 7.5pt; color: #333;
    vertical-align: bottom; padding-bottom: 3mm; text-align: right; }
  @bottom-left { content: %(bottom_left)s; font-size: 7pt; color: #555; }
}
"""


# --- header ----------------------------------------------------------------------------------


def french_datetime(moment: dt.datetime) -> str:
    """31/12/2024 à 16:05 (local time)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%d/%m/%Y à %H:%M")


def _css_string(text: str) -> str:
    """A CSS string literal; anything but plain characters is escaped (no ``</style>``)."""
    out = []
    for char in str(text):
        if char.isalnum() or char in " .,;:-_/()'°·—–«»":
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")  # the space ends the escape and is consumed
    return '"' + "".join(out) + '"'


def header_lines(header: dict) -> tuple[str, str, str]:
    """The page header (left, right) and the footer's left text."""
    left = f"{header.get('organism', '')} — SIREN {header.get('siren', '')}"
    right = " — ".join(
        part
        for part in (
            header.get("document", ""),
            f"exercice {header.get('exercise', '')}",
            f"version {header.get('version', '')} du formulaire",
            f"étape : {header.get('step') or DEFAULT_STEP}",
        )
        if part
    )
    generated = header.get("generated_at") or timezone.now()
    if isinstance(generated, dt.datetime):
        generated = french_datetime(generated)
    return left, right, f"Document généré le {generated}"


# --- one sheet as a table --------------------------------------------------------------------


def _has_content(entry: dict) -> bool:
    return entry["kind"] in ("input", "computed") or bool(entry.get("text"))


def sheet_html(
    layout: dict, fields: dict, values: dict, computed: dict, tables: Iterable = ()
) -> tuple[str, float]:
    """The ``<table>`` of one sheet (printable: no inputs) and the font scale it needs.

    ``tables``: (TableMeta, rows, computed rows) of the sheet's multivalued tables, each drawn
    where it stands (its header and template rows replaced by all its rows, header repeated
    on every page); a table outside the drawn rows comes after the sheet."""
    cells = {(e["r"], e["c"]): e for e in layout.get("cells", [])}
    placed = {}
    for table in tables:
        meta = table[0]
        placed[meta.header_row or meta.first_row] = (table, meta.last_row)
    content = [key for key, entry in cells.items() if _has_content(entry)]
    if not content:
        after = "".join(table_rows_html(*t) for t, _ in placed.values())
        return after or '<p class="none">Feuille sans contenu.</p>', 1.0
    last_row = max([r for r, _ in content] + [end for _, end in placed.values()])
    last_col = max(c for _, c in content)
    widths = list(layout.get("columns", []))
    widths += [DEFAULT_COLUMN_WIDTH] * (last_col - len(widths))
    visible_cols = [c for c in range(1, last_col + 1) if widths[c - 1] != 0]
    hidden_rows = {row for row, height in layout.get("rows", []) if height == 0}
    visible_rows = [r for r in range(1, last_row + 1) if r not in hidden_rows]
    if not visible_cols or not visible_rows:
        return '<p class="none">Feuille sans contenu.</p>', 1.0
    col_set, row_set = set(visible_cols), set(visible_rows)

    spans, covered = merged_spans(layout.get("merged", []), row_set, col_set, last_row, last_col)

    px = [widths[c - 1] * PX_PER_WIDTH_UNIT + 5 for c in visible_cols]
    scale = min(1.0, CONTENT_WIDTH_PX / sum(px))
    opening = f'<table style="width:{sum(px) * scale:.1f}px"><colgroup>' + "".join(
        f'<col style="width:{w * scale:.1f}px">' for w in px
    )
    out = [opening, "</colgroup>"]
    fills: dict[str, str] = {}
    skip_until = 0
    for row in visible_rows:
        if row <= skip_until:
            continue
        if row in placed:  # the sheet's table stops, the list is drawn, the sheet goes on
            table, skip_until = placed.pop(row)
            out.append("</table>")
            out.append(table_rows_html(*table))
            out.extend([opening, "</colgroup>"])
            continue
        # the row's cells up to its last one holding something
        row_last = max(
            (
                c
                for c in visible_cols
                if (row, c) in spans
                or ((row, c) in cells and (row, c) not in covered and _has_content(cells[(row, c)]))
            ),
            default=0,
        )
        if not row_last:
            out.append('<tr class="e"></tr>')
            continue
        out.append("<tr>")
        absorbed = 0
        for col in visible_cols:
            if col > row_last:
                break
            if absorbed:
                absorbed -= 1
                continue
            if (row, col) in covered:
                continue
            entry = cells.get((row, col))
            span = spans.get((row, col))
            attrs = ""
            if span:
                rows, cols, origin_row, origin_col = span
                entry = cells.get((origin_row, origin_col))  # its top-left may be hidden
                attrs = (f' rowspan="{rows}"' if rows > 1 else "") + (
                    f' colspan="{cols}"' if cols > 1 else ""
                )
            if entry is None:
                out.append(f"<td{attrs}></td>")
                continue
            kind = entry["kind"]
            classes = []
            if kind in ("input", "computed"):
                text, value_classes = _field_text(entry, fields, values, computed)
                classes.extend(value_classes)
            elif "v" in entry:  # a number or a date of the workbook, through its format
                text = escape(label_text(entry))
                if "align" not in entry:
                    classes.append("R")
            else:
                text = escape(label_text(entry))
                if text and not span and not entry.get("wrap"):
                    # like Excel, a label runs over the empty cells on its right
                    absorbed = _free_cells_right(row, col, visible_cols, cells, covered, spans)
                    if absorbed:
                        attrs = f' colspan="{absorbed + 1}"'
            if entry.get("bold"):
                classes.append("x")
            if entry.get("italic"):
                classes.append("y")
            if (align := entry.get("align")) in ("left", "center", "right"):
                classes.append(align[0].upper())
            if fill := entry.get("fill"):
                classes.append(fills.setdefault(fill, f"f{len(fills)}"))
            cls = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{cls}{attrs}>{text}</td>")
        out.append("</tr>")
    out.append("</table>")
    out.extend(table_rows_html(*t) for t, _ in placed.values())  # rows not drawn (hidden)
    if fills:
        rules = "".join(f"td.{name}{{background:{color}}}" for color, name in fills.items())
        out.insert(0, f"<style>{rules}</style>")
    return "".join(out), scale


def _free_cells_right(row, col, visible_cols, cells, covered, spans) -> int:
    """How many empty visible cells follow (row, col) before the next cell or merged range."""
    count = 0
    for next_col in visible_cols:
        if next_col <= col:
            continue
        if (row, next_col) in cells or (row, next_col) in covered or (row, next_col) in spans:
            break
        count += 1
    return count


def _field_text(entry, fields, values, computed) -> tuple[str, list[str]]:
    name = entry.get("name")
    info = fields.get(name)
    if info is None:
        return "", ["v"]
    source = computed if info.computed else values
    value = source.get(name)
    classes = ["v", "k"] if info.computed else ["v"]
    if isinstance(value, str) or info.data_type in ("text", "choice"):
        classes.append("t")
    return escape(format_value(value, info.data_type, info.number_format)), classes


def table_rows_html(meta, rows: list, computed_rows) -> str:
    """A multivalued table of the sheet: its rows under a header (``thead``: repeated on each
    page when the table breaks across pages)."""
    computed_rows = computed_rows if computed_rows.__class__ is list else []
    out = [
        f'<table class="multi"><caption>Tableau « {escape(meta.name)} » — '
        f"{len(rows)} ligne{'s' if len(rows) > 1 else ''}</caption><thead><tr>"
    ]
    out.extend(f'<th scope="col">{escape(c.label or c.name)}</th>' for c in meta.columns)
    out.append("</tr></thead><tbody>")
    for index, row in enumerate(rows):
        calculated = computed_rows[index] if index < len(computed_rows) else {}
        calculated = calculated if isinstance(calculated, dict) else {}
        out.append("<tr>")
        for column in meta.columns:
            value = (calculated if column.computed else row).get(column.name)
            text = format_value(value, column.data_type, column.number_format)
            numeric = column.data_type not in ("text", "choice") and not isinstance(value, str)
            out.append(f'<td class="{"v" if numeric else "v t"}">{escape(text)}</td>')
        out.append("</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(meta.columns)}">Aucune ligne.</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def sheet_document_html(layout: dict, table: str, scale: float, css: str, title: str) -> str:
    font = max(MIN_FONT_PT, round(BASE_FONT_PT * scale, 2))
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f"<style>{css}</style><style>html{{font-size:{font}pt}}</style></head><body>"
        f"<h1>{escape(layout.get('name', ''))}</h1>{table}</body></html>"
    )


# --- the whole document ----------------------------------------------------------------------


def render_pdf(
    header: dict,
    layouts: Iterable[dict],
    fields: dict,
    values: dict,
    computed: dict,
    *,
    progress: Progress | None = None,
    tables: Iterable = (),
) -> bytes:
    """The PDF of a dossier from plain data.

    ``header``: organism, siren, exercise, document, version, step, generated_at (datetime or
    text); ``layouts``: the sheet layouts in order (hidden ones are left out); ``fields``: field
    name → object with ``computed``, ``data_type``, ``number_format`` (``FieldInfo``);
    ``progress(done, total)`` is called after each sheet; ``tables``: (TableMeta, rows,
    computed rows) of the multivalued tables, each printed where it stands in its sheet with
    its header repeated on every page."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    sheets = [layout for layout in layouts if not layout.get("hidden")]
    top_left, top_right, bottom_left = header_lines(header)
    css_text = STYLE % {
        "font": BASE_FONT_PT,
        "top": MARGIN_TOP_MM,
        "side": MARGIN_SIDE_MM,
        "bottom": MARGIN_BOTTOM_MM,
        "top_left": _css_string(top_left),
        "top_right": _css_string(top_right),
        "bottom_left": _css_string(bottom_left),
    }
    title = f"{header.get('document', '')} {header.get('exercise', '')} — " + str(
        header.get("organism", "")
    )
    font_config = FontConfiguration()
    if not sheets:
        sheets = [{"name": "Formulaire", "cells": []}]
    first = None
    pages = []
    total = len(sheets)
    for done, layout in enumerate(sheets, start=1):
        table, scale = sheet_html(
            layout,
            fields,
            values,
            computed,
            [t for t in tables if t[0].sheet == layout.get("name")],
        )
        html = sheet_document_html(layout, table, scale, css_text, title)
        del table
        document = HTML(string=html, url_fetcher=_no_fetch).render(font_config=font_config)
        del html
        if first is None:
            first = document
        pages.extend(document.pages)
        if progress is not None:
            progress(done, total)
    return first.copy(pages).write_pdf(finisher=_stamp_page_numbers)


def _no_fetch(url, *args, **kwargs):
    raise ValueError("Aucune ressource externe dans un PDF de dossier.")


# --- page numbers ----------------------------------------------------------------------------

# Helvetica advance widths (1/1000 em) for the characters of "page 12 / 34"
_HELVETICA_WIDTHS = {" ": 278, "/": 278, **dict.fromkeys("0123456789page", 556)}
_PAGE_NUMBER_FONT = "HarmoniaPageNumber"


def _stamp_page_numbers(document, pdf) -> None:
    """Draw "page X / Y" at the bottom right of every page (WeasyPrint's finisher hook)."""
    import pydyf

    font = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/Type1",
            "BaseFont": "/Helvetica",
            "Encoding": "/WinAnsiEncoding",
        }
    )
    pdf.add_object(font)
    references = pdf.page_references
    total = len(references)
    font_dicts = set()
    for number, reference in enumerate(references, start=1):
        page = _deref(pdf, reference)
        resources = _deref(pdf, page["Resources"])
        fonts = resources.get("Font")
        if fonts is None:
            fonts = resources["Font"] = pydyf.Dictionary()
        fonts = _deref(pdf, fonts)
        if id(fonts) not in font_dicts:
            fonts[_PAGE_NUMBER_FONT] = font.reference
            font_dicts.add(id(fonts))
        text = f"page {number} / {total}"
        width = sum(_HELVETICA_WIDTHS.get(ch, 556) for ch in text) / 1000 * PAGE_NUMBER_FONT_PT
        _, bottom, right, _ = (float(v) for v in page["MediaBox"])
        x = right - MARGIN_SIDE_MM * 72 / 25.4 - width
        y = bottom + MARGIN_BOTTOM_MM * 72 / 25.4 / 2 - PAGE_NUMBER_FONT_PT / 3
        stamp = pydyf.Stream()
        stamp.push_state()
        stamp.set_color_rgb(0.33, 0.33, 0.33)
        stamp.begin_text()
        stamp.set_font_size(_PAGE_NUMBER_FONT, PAGE_NUMBER_FONT_PT)
        stamp.move_text_to(round(x, 2), round(y, 2))
        stamp.show_text_string(text)
        stamp.end_text()
        stamp.pop_state()
        pdf.add_object(stamp)
        contents = page["Contents"]
        if isinstance(contents, list):
            page["Contents"] = pydyf.Array([stamp.reference, *contents])
        else:
            page["Contents"] = pydyf.Array([stamp.reference, contents])


def _deref(pdf, value):
    """The object behind an indirect reference (``b"12 0 R"``), or the value itself."""
    if isinstance(value, bytes | str):
        number = int(value.split()[0])
        return pdf.objects[number]
    return value


# --- from a dossier --------------------------------------------------------------------------


def dossier_header(
    dossier, *, generated_at: dt.datetime | None = None, step: str | None = None
) -> dict:
    organism = dossier.organism
    return {
        "organism": organism.name,
        "siren": organism.siren,
        "exercise": dossier.campaign.exercise,
        "document": dossier.document_type.label,
        "version": dossier.form_version.number,
        "step": step or getattr(dossier, "step_label", DEFAULT_STEP),
        "generated_at": generated_at or timezone.now(),
    }


def dossier_pdf_filename(dossier) -> str:
    """ER_SOCIAUX-2024-412345678.pdf"""
    return f"{dossier.document_stem}.pdf"


def dossier_pdf(
    dossier,
    *,
    progress: Progress | None = None,
    values: dict | None = None,
    computed: dict | None = None,
    step: str | None = None,
) -> bytes:
    """The PDF of a dossier: its visible sheets with its values, as they stand now (or the
    ``values``, ``computed`` and ``step`` frozen at a transmission)."""

    version = dossier.form_version
    layouts = version.sheets.order_by("position").values_list("layout", flat=True)
    return render_pdf(
        dossier_header(dossier, step=step),
        list(layouts),
        version_fields(version),
        dossier.values if values is None else values,
        dossier.computed if computed is None else computed,
        progress=progress,
        tables=pdf_tables(dossier, values, computed),
    )


def pdf_tables(dossier, values, computed) -> list:
    """(TableMeta, rows, computed rows) of the dossier's multivalued tables, for the PDF."""
    values = dossier.values if values is None else values
    computed = dossier.computed if computed is None else computed
    form = None
    out = []
    for name, meta in version_tables(dossier.form_version).items():
        rows = values.get(name)
        if rows.__class__ is not list:  # untouched: the workbook's pre-filled rows
            form = form or compiled_form(dossier.form_version)
            rows = table_rows_stored(form, name)
        out.append((meta, rows, computed.get(name)))
    return out
