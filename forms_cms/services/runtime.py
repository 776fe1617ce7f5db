"""Compiled forms in memory, and the conversion between stored values and engine values.

Each process keeps the compiled forms it used (a form version never changes once stored), so
a dossier's recomputation costs milliseconds after the first load. Cached per schema: form
version ids are only unique within one platform.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from forms_cms.engine import CompiledForm, XLError
from forms_cms.models import VersionFile


@lru_cache(maxsize=32)
def _compiled(schema: str, version_id: int) -> CompiledForm:
    content = VersionFile.objects.values_list("content", flat=True).get(
        version_id=version_id, kind=VersionFile.Kind.COMPILED
    )
    return CompiledForm.loads(bytes(content))


def compiled_form(version) -> CompiledForm:
    """The compiled formulas of a form version (loaded once per process)."""
    return _compiled(connection.schema_name, version.pk)


def to_engine(value):
    """A stored (JSON) value as the engine's value (a table's rows: each row's values)."""
    if isinstance(value, dict) and "error" in value:
        return XLError.get(value["error"])
    if isinstance(value, list):
        return [{k: to_engine(x) for k, x in row.items()} for row in value]
    return value


def to_stored(value):
    """An engine value as stored in JSON (errors as {"error": "#DIV/0!"})."""
    if value.__class__ is XLError:
        return {"error": value.code}
    if value.__class__ is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def engine_inputs(form: CompiledForm, values: dict) -> dict:
    """The stored input values the form knows (fields and tables), as engine values."""
    return {
        name: to_engine(value)
        for name, value in values.items()
        if (name in form.names and form.names[name] not in form.formula_ids)
        or (value.__class__ is list and name in form.tables)
    }


def dossier_values_list(form: CompiledForm, values: dict) -> list:
    """Every cell's value after a full recalculation from the dossier's stored inputs."""
    return form.evaluate(engine_inputs(form, values), workbook_inputs=False)


def computed_of(form: CompiledForm, v: list) -> dict:
    """The computed values to store, by name, from a value list (see :func:`dossier_evaluate`)."""
    computed = {
        name: to_stored(v[form.names[name]] if v[form.names[name]] is not None else 0)
        for name in form.computed_names
    }
    for name, table in form.tables.items():
        columns = table.computed_columns
        if not columns:
            continue
        lists = [(c.field, v[c.slot]) for c in columns]
        computed[name] = [
            {f: to_stored(x[i] if x[i] is not None else 0) for f, x in lists}
            for i in range(len(v[table.anchor]))
        ]
    return computed


def dossier_evaluate(form: CompiledForm, values: dict) -> dict:
    """Computed values, by name, for the given input values (fields absent are empty).

    A table's rows (``values[TABLE]``: a list of {input column: value}) give, under the
    table's name, a list of {calculated column: value} (one per row)."""
    return computed_of(form, dossier_values_list(form, values))


def table_rows_stored(form: CompiledForm, name: str) -> list[dict]:
    """The rows a table holds before anything is entered (the workbook's pre-filled rows),
    as stored values."""
    table = form.tables[name]
    return [
        {c.field: to_stored(x) for c, x in zip(table.inputs, row, strict=True) if x is not None}
        for row in table.rows
    ]
