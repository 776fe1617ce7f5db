"""A table's values as the online form shows them (French formats)."""

from __future__ import annotations

from forms_cms.fields import TableMeta, version_fields, version_tables
from forms_cms.formats import format_value


def row_text(meta: TableMeta, row: dict) -> str:
    """A stored row in words, for the confirmation of its deletion."""
    parts = [
        f"{c.label} : {format_value(row[c.name], c.data_type, c.number_format)}"
        for c in meta.inputs
        if row.get(c.name) not in (None, "")
    ]
    return " ; ".join(parts)


def row_cells(meta: TableMeta, row: dict) -> dict[str, str]:
    return {
        c.name: format_value(row.get(c.name), c.data_type, c.number_format) for c in meta.inputs
    }


def changed_values(version, computed: dict) -> dict:
    """The computed values a save changed, as the page shows them: ``computed`` (single
    cells, by name) and ``tables`` (a table's calculated columns, one dict per row)."""
    fields = version_fields(version)
    metas = version_tables(version)
    cells, tables = {}, {}
    for name, value in computed.items():
        meta = metas.get(name)
        if meta is not None and isinstance(value, list):
            columns = [c for c in meta.columns if c.computed]
            tables[name] = [
                {
                    c.name: format_value(row.get(c.name), c.data_type, c.number_format)
                    for c in columns
                }
                for row in value
            ]
        elif name in fields:
            info = fields[name]
            cells[name] = format_value(value, info.data_type, info.number_format)
    return {"computed": cells, "tables": tables}
