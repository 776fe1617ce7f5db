"""Who sees which dossiers (the dossier policy's rule, as a queryset), and the reads the
dossier screens share."""

from declarations.grid import GridTable
from forms_cms.fields import version_tables
from forms_cms.services.runtime import compiled_form, table_rows_stored
from workflow.policy import dossiers_visible_to

__all__ = ["dossiers_visible_to", "grid_tables"]


def grid_tables(version, sheet: str, values: dict, computed: dict) -> list[GridTable]:
    """The multivalued tables of ``sheet`` with the rows of ``values`` (the workbook's
    pre-filled rows for a table nothing was entered in) and their calculated columns."""
    tables = []
    for name, meta in version_tables(version).items():
        if meta.sheet != sheet:
            continue
        if isinstance(values.get(name), list):
            rows = values[name]
        else:
            rows = table_rows_stored(compiled_form(version), name)
        tables.append(GridTable(meta, rows, list(computed.get(name) or [])))
    return tables
