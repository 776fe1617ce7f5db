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
    """A stored value as the CSV files write it ('' when there is none)."""
    if value is None or value == "":
        return ""
    if value.__class__ is dict:
        return str(value.get("error", "#ERREUR"))
    if value.__class__ is bool:
        return "VRAI" if value else "FAUX"
    if info.data_type == "date" and value.__class__ in (int, float):
        day = serial_date(value)
        return day.strftime("%d/%m/%Y") if day else str(value)
    text = value_text(info, value) if value.__class__ in (int, float) else None
    if text is None:
        text = str(value)
        if text.startswith(FORMULA_START) and info.data_type not in NUMERIC:
            return "'" + text
    return text


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
