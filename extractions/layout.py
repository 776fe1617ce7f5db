"""What an extraction's files hold: the columns (the fields of the form versions involved, in
the form's order) and the text or typed value of each cell.

Values in the CSV files are written so that a program reads them back without guessing and a
French reader still understands them (see README « Bulk extractions »):

- numbers as the harmonised XML writes them: plain decimals with a point, no thousands
  separator (``1234.50``, amounts with two decimals; integers ``1200``; percentages as a
  fraction: ``0.125`` for 12,5 %);
- dates jj/mm/aaaa, as the workspace export;
- booleans VRAI/FAUX, formula errors as Excel writes them (``#DIV/0!``);
- a text beginning with ``=``, ``+``, ``-``, ``@`` or a tab gets a leading apostrophe, so
  that a spreadsheet opening the file does not run it as a formula.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forms_cms.engine import serial_to_ymd
from forms_cms.fields import FieldInfo, TableMeta, version_fields, version_tables
from forms_cms.xmlformat import value_text

NUMERIC = frozenset({"amount", "integer", "percentage"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset(FORMULA_START)
INF = float("inf")

# the first columns of every row (one dossier): its organism and where it stands
DOSSIER_HEADERS = ["SIREN", "Raison sociale", "Famille", "Étape", "Sous-étape"]
LONG_HEADERS = [
    *DOSSIER_HEADERS,
    "Feuille",
    "Liste",
    "Ligne",
    "Champ",
    "Libellé",
    "Valeur",
]


@dataclass(frozen=True)
class Layout:
    """The columns of an extraction: single-cell fields and multivalued tables, in the form's
    order (sheets, then rows and columns); fields of older versions not in the newest last."""

    fields: tuple[FieldInfo, ...]
    tables: tuple[TableMeta, ...]

    @classmethod
    def of(cls, versions) -> Layout:
        """``versions``: the form versions of the extracted dossiers, newest first."""
        fields: dict[str, FieldInfo] = {}
        tables: dict[str, TableMeta] = {}
        for version in versions:
            order = {
                name: i
                for i, name in enumerate(
                    version.sheets.order_by("position").values_list("name", flat=True)
                )
            }
            known = sorted(
                version_fields(version).values(),
                key=lambda f: (order.get(f.sheet, len(order)), f.sheet, f.row, f.column),
            )
            for info in known:
                fields.setdefault(info.name, info)
            for name, meta in version_tables(version).items():
                tables.setdefault(name, meta)
        return cls(tuple(fields.values()), tuple(tables.values()))


def csv_text(info: FieldInfo, value) -> str:
    """A stored value as the CSV files write it ('' when there is none), before CSV quoting."""
    cls = value.__class__
    if value is None or value == "":
        return ""
    if cls is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    if cls is dict:
        return str(value.get("error", "#ERREUR"))
    if cls is bool:
        return "VRAI" if value else "FAUX"
    if cls is float and not -INF < value < INF:
        return "#NOMBRE!"
    if info.data_type == "date" and cls in (int, float):
        day = serial_date(value)
        if day is not None:
            return day.strftime("%d/%m/%Y")
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = value_text(info, value) if cls in (int, float) else None
    return str(value) if text is None else text


def quoted(text: str) -> str:
    """``text`` as one CSV cell (``;`` separator): quoted when it holds a separator, a quote
    or a line break."""
    if ";" in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_cell(info: FieldInfo):
    """``value -> CSV cell`` for one field: :func:`csv_text` then :func:`quoted`, with the
    common cases of its type taken first (millions of cells go through it; same result)."""

    def other(value) -> str:
        return quoted(csv_text(info, value))

    if info.data_type == "amount":

        def amount(value) -> str:
            if (value.__class__ is float or value.__class__ is int) and -INF < value < INF:
                return f"{value:.2f}"
            return "" if value is None else other(value)

        return amount
    if info.data_type == "integer":

        def integer(value) -> str:
            if (value.__class__ is float or value.__class__ is int) and -INF < value < INF:
                return str(round(value))
            return "" if value is None else other(value)

        return integer
    if info.data_type == "date":
        days: dict = {}

        def date(value) -> str:
            if value.__class__ is float or value.__class__ is int:
                text = days.get(value)
                if text is None:
                    text = days[value] = other(value)
                return text
            return "" if value is None else other(value)

        return date
    if info.data_type == "percentage":

        def percentage(value) -> str:
            if value.__class__ is float or value.__class__ is int:
                text = repr(float(value))  # as _number_text writes it, when no exponent
                if "e" not in text and "n" not in text:
                    return text.rstrip("0").rstrip(".")
            return "" if value is None else other(value)

        return percentage
    if info.data_type not in NUMERIC:

        def text(value) -> str:
            if value.__class__ is str:
                if not value:
                    return ""
                if value[0] in FORMULA_CHARS:
                    value = "'" + value
                if ";" in value or '"' in value or "\n" in value or "\r" in value:
                    return '"' + value.replace('"', '""') + '"'
                return value
            return "" if value is None else other(value)

        return text
    return lambda value: "" if value is None else other(value)


def serial_date(value) -> dt.date | None:
    try:
        year, month, day = serial_to_ymd(value)
        return dt.date(year, month, day)
    except (ValueError, OverflowError, TypeError):
        return None


def table_row_cells(meta: TableMeta, rows, computed_rows):
    """(row number from 1, {column: value}) of a table: input cells with their calculated
    columns beside them."""
    if computed_rows.__class__ is not list:
        computed_rows = []
    for index, row in enumerate(rows if rows.__class__ is list else ()):
        calculated = computed_rows[index] if index < len(computed_rows) else {}
        if calculated.__class__ is not dict:
            calculated = {}
        if row.__class__ is not dict:
            row = {}
        yield index + 1, {**row, **calculated}
