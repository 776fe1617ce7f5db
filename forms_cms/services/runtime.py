"""Compiled forms in memory, and the conversion between stored values and engine values.

Each process keeps the compiled forms it used (a form version never changes once stored), so
a dossier's recomputation costs milliseconds after the first load. Cached per schema: form
version ids are only unique within one platform.
"""

from __future__ import annotations

from dataclasses import dataclass
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
        if table.computed_columns:
            computed[name] = _table_computed(table, v)
    return computed


def _table_computed(table, v: list) -> list[dict]:
    """A table's calculated columns to store: one {column field: value} per row."""
    lists = [(c.field, v[c.slot]) for c in table.computed_columns]
    return [
        {f: to_stored(x[i] if x[i] is not None else 0) for f, x in lists}
        for i in range(len(v[table.anchor]))
    ]


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


# --- recomputing a few changes from the stored values ------------------------------------------
@dataclass(frozen=True)
class PartialPlan:
    """What a save of a few input fields reads from the stored documents and runs.

    ``value_keys`` / ``computed_keys``: the keys to read from the dossier's ``values`` and
    ``computed`` (the cells the affected formulas and ``reads`` read, the changed fields'
    old values, the affected computed fields' old values)."""

    changed: dict[str, frozenset[int]]  # changed field (or table) → its cells
    affected: tuple[int, ...]
    load: frozenset[int]
    pre: tuple
    value_keys: tuple[str, ...]
    computed_keys: tuple[str, ...]


def partial_plan(form: CompiledForm, names, reads: frozenset[int] = frozenset()) -> PartialPlan:
    """The plan of a save of ``names`` (input fields or tables of ``form``)."""
    changed: dict[str, frozenset[int]] = {}
    for name in names:
        table = form.tables.get(name)
        if table is not None:
            changed[name] = frozenset(c.slot for c in table.inputs)
        else:
            changed[name] = frozenset((form.names[name],))
    ids = frozenset().union(*changed.values())
    affected, load, pre = form.partial_plan(ids, reads)
    stored = form.stored_slots
    value_keys, computed_keys = set(changed), set()
    for cid in load:
        key = stored[cid]
        if key in form.tables:
            value_keys.add(key)
            computed_keys.add(key)
        elif cid in form.formula_ids:
            computed_keys.add(key)
        else:
            value_keys.add(key)
    computed_keys.update(stored[cid] for cid in affected if cid in stored)
    return PartialPlan(
        changed, tuple(affected), load, tuple(pre), tuple(sorted(value_keys)),
        tuple(sorted(computed_keys)),
    )  # fmt: skip


def stored_values_list(form: CompiledForm, values: dict, computed: dict, reads: frozenset[int]):
    """A value list exact for the cells ``reads`` names, read from the dossier's stored
    ``values`` and ``computed`` instead of recomputing the form: the same values there as
    :func:`dossier_values_list` gives, since each write stores the recomputed values with the
    inputs (the write gate's invariant). Milliseconds where a full ER's recalculation takes
    tens: for screens that only read (the sheet's checklist)."""
    return partial_evaluate(form, partial_plan(form, (), reads), values, computed, {})[0]


def _engine_number(value):
    # what the engine itself holds for a stored number: a float (booleans stay booleans)
    return float(value) if value.__class__ is int else value


def partial_evaluate(
    form: CompiledForm, plan: PartialPlan, values: dict, computed: dict, changes: dict
) -> tuple[list, dict]:
    """Recompute after ``changes`` (stored values by name) from ``values`` and ``computed``,
    the parts of the stored documents ``plan`` names. Returns the value list (exact for the
    affected cells and for everything ``plan`` loaded) and the computed values to store of
    the affected fields and tables, as :func:`computed_of` would give them."""
    v = list(form.dossier_blank)
    stored = form.stored_slots
    tables_loaded = set()
    for cid in plan.load:
        key = stored[cid]
        table = form.tables.get(key)
        if table is not None:
            if key in tables_loaded:
                continue
            tables_loaded.add(key)
            _table_restore(form, v, table, values.get(key), computed.get(key))
        elif cid in form.formula_ids:
            value = computed.get(key)
            v[cid] = to_engine(_engine_number(value)) if value is not None else None
        else:
            form.put(v, key, to_engine(values.get(key)))
    for name in plan.changed.keys() - changes.keys():  # named in the plan, unchanged
        table = form.tables.get(name)
        if table is not None:
            _table_restore(form, v, table, values.get(name), computed.get(name))
        else:
            form.put(v, name, to_engine(values.get(name)))
    for function in plan.pre:
        function(v)
    form.set_inputs(v, {name: to_engine(value) for name, value in changes.items()})
    out = {}
    touched_tables = {name for name in changes if name in form.tables}
    for cid in plan.affected:
        key = stored.get(cid)
        if key is None:
            continue
        if key in form.tables:
            touched_tables.add(key)
        else:
            out[key] = to_stored(v[cid] if v[cid] is not None else 0)
    for name in touched_tables:
        if form.tables[name].computed_columns:
            out[name] = _table_computed(form.tables[name], v)
    return v, out


def _table_restore(form: CompiledForm, v: list, table, rows, computed_rows) -> None:
    if rows is not None:
        form.put(v, table.name, to_engine(rows))
    else:  # the workbook's pre-filled rows (a fresh copy: the blank list is shared)
        for column in table.inputs:
            v[column.slot] = list(v[column.slot])
    for column in table.computed_columns:
        v[column.slot] = [
            to_engine(_engine_number(row.get(column.field))) for row in computed_rows or []
        ]
