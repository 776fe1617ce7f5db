"""Rows copied from Excel (tab-separated lines) as typed entries of a table's columns.

Excel copies a block as lines of tab-separated cells (a cell holding a tab, a line break or
a quote is quoted, quotes doubled), the last line ended by a line break. The block fills the
table from the row and column where it is pasted, rightwards over the table's columns in
the sheet's order and downwards; rows are added as needed (the service enforces the cap).

A block exactly as wide as the input columns from there on (a list kept by the organism,
without the form's calculated columns) fills those input columns, skipping the calculated
ones; any other block fills the columns as they stand (a block copied from the form itself).

Two choices keep a paste from erasing anything by surprise: an empty pasted cell leaves the
value in place, and a value landing on a calculated column is left out (its formula stays);
the second is reported to the person."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from forms_cms.fields import TableMeta

MAX_PASTED_ROWS = 5000
MSG_NOTHING = "Rien à coller : le presse-papiers ne contient pas de cellules."
MSG_COLUMN = "La colonne {column} n'existe pas dans le tableau « {table} »."
MSG_TOO_WIDE = (
    "Le collage compte {count} colonnes à partir de « {start} », mais le tableau n'en a que "
    "{room} à partir de là (jusqu'à « {last} ») : copiez moins de colonnes."
)
MSG_TOO_LONG = "Le collage compte plus de {cap} lignes : collez-le en plusieurs fois."
MSG_COMPUTED_SKIPPED = (
    "Les valeurs collées sur la colonne calculée « {column} » sont ignorées (elle est calculée)."
)


class PasteRefused(ValueError):
    """The pasted block does not fit the table; the message says what to do."""


@dataclass
class Pasted:
    rows: list[dict[str, str]]  # typed texts by input column, one dict per pasted line
    notes: list[str] = field(default_factory=list)


def pasted_lines(text: str) -> list[list[str]]:
    """Excel's clipboard text as lines of cells (the final line break is not a line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return []
    return [list(line) for line in csv.reader(io.StringIO(text), delimiter="\t", strict=False)]


def paste_rows(meta: TableMeta, column: str, text: str) -> Pasted:
    """The entries of each pasted line, starting at ``column`` (a column's field name)."""
    start = meta.column(column)
    if start is None:
        raise PasteRefused(MSG_COLUMN.format(column=column, table=meta.name))
    lines = pasted_lines(text)
    if not lines:
        raise PasteRefused(MSG_NOTHING)
    if len(lines) > MAX_PASTED_ROWS:
        raise PasteRefused(MSG_TOO_LONG.format(cap=MAX_PASTED_ROWS))
    columns = list(meta.columns)
    targets = columns[columns.index(start) :]
    inputs = [c for c in targets if not c.computed]
    if start.computed or max(len(line) for line in lines) != len(inputs):
        inputs = []
    if inputs:
        targets = inputs  # the organism's own list: its columns are the input columns
    width = max(
        max((i + 1 for i, cell in enumerate(line) if cell.strip()), default=0) for line in lines
    )
    if width > len(targets):
        raise PasteRefused(
            MSG_TOO_WIDE.format(
                count=width, start=start.label, room=len(targets), last=targets[-1].label
            )
        )
    skipped = []
    rows = []
    for line in lines:
        entries = {}
        for info, cell in zip(targets, line, strict=False):
            if not cell.strip():
                continue
            if info.computed:
                if info.label not in skipped:
                    skipped.append(info.label)
                continue
            entries[info.name] = cell
        rows.append(entries)
    return Pasted(rows, [MSG_COMPUTED_SKIPPED.format(column=label) for label in skipped])
