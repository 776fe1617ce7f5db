"""A field's data type, from its data validation, number format, value or formula.

Order of the rules (the first that answers wins):

1. a data validation of type *list* covering the cell: ``choice`` (choices from the inline list
   ``"Oui,Non"``, or from the cells of the range — or of the name — it refers to);
2. the number format: ``%`` → percentage; a date/time format → date; ``@`` → text; decimals
   (``0.00``, ``#,##0.00``) or a currency sign → amount; ``0``/``#,##0`` → integer;
3. another data validation: whole → integer, decimal → amount, date → date,
   textLength → text;
4. ``General`` format: an input cell's own value (text, integer, decimal → amount, date; an
   empty cell is an amount, the commonest field of an accounts form); a computed cell is an
   amount unless its formula obviously builds text (a string literal first, ``&``,
   ``CONCATENATE``/``CONCAT``/``TEXT``).

Excel 2010+ stores validations whose list lives on *another sheet* in a worksheet extension
(``x14:dataValidation``) that openpyxl drops: :func:`x14_validations` reads them back from the
file's bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from io import BytesIO
from posixpath import join, normpath

from lxml import etree
from openpyxl.styles.numbers import is_date_format
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation

from forms_cms.workbook.cells import cell_at, collapse, display_text

DATA_TYPES = ("amount", "integer", "percentage", "date", "text", "choice")

_QUOTED = re.compile(r'"[^"]*"')
_BRACKETED = re.compile(r"\[[^\]]*\]")
_ESCAPED = re.compile(r"\\.|_.|\*.")
_DECIMALS = re.compile(r"[0#?]?\.[0#?]")
_DIGITS = re.compile(r"[0#?]")
_CURRENCY = ("€", "$", "£", "EUR")
_TEXT_FUNCTIONS = re.compile(r"\b(CONCATENATE|CONCAT|TEXT|TEXTJOIN|UPPER|LOWER|LEFT|RIGHT|MID)\(")
_VALIDATION_TYPES = {
    "whole": "integer",
    "decimal": "amount",
    "date": "date",
    "textLength": "text",
}
_MAX_CHOICES = 1000

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
NS_XM = "http://schemas.microsoft.com/office/excel/2006/main"


def format_type(number_format: str | None) -> str | None:
    """The data type a number format implies, or None (General or not telling)."""
    if not number_format or number_format.strip().lower() == "general":
        return None
    cleaned = _ESCAPED.sub("", _BRACKETED.sub("", _QUOTED.sub("", number_format)))
    first = cleaned.split(";")[0]
    if "%" in cleaned:
        return "percentage"
    if is_date_format(number_format):
        return "date"
    if "@" in first or cleaned.strip() == "@":
        return "text"
    if any(sign in number_format for sign in _CURRENCY) or _DECIMALS.search(first):
        return "amount"
    if _DIGITS.search(first):
        return "integer"
    return None


def validation_type(dv: DataValidation | None) -> str | None:
    """The data type a (non-list) data validation implies."""
    if dv is None:
        return None
    return _VALIDATION_TYPES.get(dv.type or "")


def value_type(value) -> str:
    """The data type of an input cell's constant (General format)."""
    if isinstance(value, bool):
        return "text"
    if isinstance(value, int | float):
        # a number without a format is an amount, even a whole one: accounting forms are
        # amounts, and a field meant for whole numbers says so by a format or a validation
        return "amount"
    if isinstance(value, dt.date | dt.datetime):
        return "date"
    if isinstance(value, str) and value.strip():
        return "text"
    return "amount"


def formula_type(formula: str) -> str:
    """The data type of a computed cell with General format."""
    body = formula.lstrip("=").lstrip()
    if body.startswith('"') or "&" in body or _TEXT_FUNCTIONS.search(body.upper()):
        return "text"
    return "amount"


def is_required(dv: DataValidation | None) -> bool:
    """Excel's « Ignorer si vide » unchecked on a validation that constrains the value."""
    return dv is not None and dv.type not in (None, "any") and not dv.allow_blank


# --- which validation covers which cell ----------------------------------------------------


def validations_by_cell(
    validations: list[DataValidation], cells: set[tuple[int, int]]
) -> dict[tuple[int, int], DataValidation]:
    """The validation covering each of ``cells`` (row, column); the first one wins."""
    found: dict[tuple[int, int], DataValidation] = {}
    if not cells:
        return found
    for dv in validations:
        for rng in dv.sqref.ranges:
            area = (rng.max_row - rng.min_row + 1) * (rng.max_col - rng.min_col + 1)
            if area <= len(cells):
                candidates = (
                    (r, c)
                    for r in range(rng.min_row, rng.max_row + 1)
                    for c in range(rng.min_col, rng.max_col + 1)
                )
                hits = [rc for rc in candidates if rc in cells]
            else:
                hits = [
                    (r, c)
                    for r, c in cells
                    if rng.min_row <= r <= rng.max_row and rng.min_col <= c <= rng.max_col
                ]
            for rc in hits:
                found.setdefault(rc, dv)
    return found


# --- choices -------------------------------------------------------------------------------

_REF = re.compile(
    r"^(?:(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^'!:,()\s]+))!)?"
    r"(?P<a>\$?[A-Za-z]{1,3}\$?\d+)(?::(?P<b>\$?[A-Za-z]{1,3}\$?\d+))?$"
)


def list_choices(formula1: str | None, wb, sheet: str, names: dict) -> list[str] | None:
    """The choices of a list validation, or None when they cannot be read statically.

    ``names`` maps upper-case defined names (workbook scope, and ``(sheet, NAME)`` for sheet
    scope) to their definitions, for lists that refer to a named range."""
    if not formula1:
        return None
    text = formula1.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        items = [collapse(item) for item in text[1:-1].split(",")]
        return _unique([item for item in items if item])
    text = text.lstrip("=").strip()
    definition = names.get((sheet, text.upper())) or names.get(text.upper())
    if definition is not None:
        text = definition.lstrip("=").strip()
    match = _REF.match(text)
    if not match:
        return None
    target = match.group("q")
    target = target.replace("''", "'") if target else match.group("u") or sheet
    if target not in wb.sheetnames:
        return None
    ws = wb[target]
    first, last = match.group("a"), match.group("b") or match.group("a")
    rng = CellRange(f"{first}:{last}".replace("$", ""))
    max_row = min(rng.max_row, ws.max_row, rng.min_row + _MAX_CHOICES)
    max_col = min(rng.max_col, ws.max_column)
    values = []
    for r in range(rng.min_row, max_row + 1):
        for c in range(rng.min_col, max_col + 1):
            cell = cell_at(ws, r, c)
            if cell is not None and cell.value is not None and cell.data_type != "f":
                item = collapse(display_text(cell.value))
                if item:
                    values.append(item)
    return _unique(values)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- validations openpyxl drops ------------------------------------------------------------


def x14_validations(source: bytes) -> dict[str, list[DataValidation]]:
    """Validations stored in the x14 worksheet extension, per sheet title."""
    found: dict[str, list[DataValidation]] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        archive = zipfile.ZipFile(BytesIO(source))
        book = etree.fromstring(archive.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return found
    with archive:
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in rels.iter(f"{{{NS_PKG_REL}}}Relationship")
        }
        for sheet in book.iter(f"{{{NS_MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{NS_REL}}}id"), "")
            path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            try:
                data = archive.read(path)
            except KeyError:
                continue
            if NS_X14.encode() not in data or b"dataValidation" not in data:
                continue
            try:
                root = etree.fromstring(data, parser)
            except etree.XMLSyntaxError:
                continue
            validations = [_x14_validation(el) for el in root.iter(f"{{{NS_X14}}}dataValidation")]
            if validations:
                found[sheet.get("name")] = [dv for dv in validations if dv is not None]
    return found


def _x14_validation(el) -> DataValidation | None:
    sqref = el.findtext(f"{{{NS_XM}}}sqref")
    if not sqref:
        return None
    formula1 = el.findtext(f"{{{NS_X14}}}formula1/{{{NS_XM}}}f")
    formula2 = el.findtext(f"{{{NS_X14}}}formula2/{{{NS_XM}}}f")
    return DataValidation(
        type=el.get("type"),
        formula1=formula1,
        formula2=formula2,
        allow_blank=el.get("allowBlank") in ("1", "true"),
        sqref=MultiCellRange(sqref),
    )


__all__ = [
    "DATA_TYPES",
    "format_type",
    "formula_type",
    "is_required",
    "list_choices",
    "validation_type",
    "validations_by_cell",
    "value_type",
    "x14_validations",
]
