"""Saving what a person typed in the online form: parsed here (French formats), written by
the dossier's write gate (``workflow.actions``), which checks, locks, records, recomputes."""

from __future__ import annotations

from forms_cms.fields import FieldInfo, TableMeta, version_fields, version_tables
from forms_cms.formats import Invalid, format_value, parse_value
from forms_cms.services.runtime import compiled_form, table_rows_stored
from workflow.actions import (
    MSG_CLOSED,
    DossierClosed,
    NoFormVersion,
    SaveRefused,
    SaveResult,
    dossier_open,
    dossier_values_apply,
)
from workflow.models import Dossier, ValueChange
from workflow.policy import DossierPolicy

__all__ = [
    "MSG_CLOSED",
    "DossierClosed",
    "NoFormVersion",
    "SaveRefused",
    "SaveResult",
    "dossier_open",
    "dossier_table_save",
    "dossier_values_apply",
    "dossier_values_save",
]

MSG_COMPUTED = "Ce champ est calculé : sa valeur vient de sa formule."
MSG_UNKNOWN = "Ce champ n'existe pas dans ce formulaire."


def dossier_values_save(
    *,
    dossier: Dossier,
    entries: dict[str, str],
    seen: dict[str, object] | None = None,
    acting_user,
    source: str = ValueChange.Source.MANUAL,
) -> SaveResult:
    """Save typed entries (field → text as typed) into the dossier, all or nothing.

    ``seen`` holds, per field, the stored value the person had on screen: if another user has
    changed it since, that field is a conflict and nothing is saved."""
    DossierPolicy(acting_user, dossier).require_owner()
    fields = version_fields(dossier.form_version)
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for name, text in entries.items():
        info: FieldInfo | None = fields.get(name)
        if info is None:
            errors[name] = MSG_UNKNOWN
            continue
        if info.computed:
            errors[name] = MSG_COMPUTED
            continue
        value = parse_value(info.data_type, text, choices=info.choices)
        if isinstance(value, Invalid):
            errors[name] = value.message
        else:
            parsed[name] = value

    def describe(name, value) -> str:
        info = fields[name]
        return format_value(value, info.data_type, info.number_format)

    return dossier_values_apply(
        dossier=dossier,
        values=parsed,
        seen=seen,
        acting_user=acting_user,
        source=source,
        errors=errors,
        describe=describe,
    )


MSG_TABLE_UNKNOWN = "Ce tableau n'existe pas dans ce formulaire."
MSG_TABLE_FULL = (
    "Le tableau « {table} » compte au plus {cap} lignes : supprimez des lignes avant d'en "
    "ajouter (ou regroupez-les)."
)
MSG_ROW_MISSING = "La ligne {row} n'existe plus : rechargez la page."
MSG_ROW_CELL = "Ligne {row}, colonne « {column} » : {message}"
MSG_COLUMN_UNKNOWN = "Ligne {row} : la colonne {column} n'existe pas dans ce tableau."
MSG_COLUMN_COMPUTED = "Ligne {row} : la colonne « {column} » est calculée."
MSG_STALE = (
    "Le tableau « {table} » a été modifié entre-temps (il compte maintenant {count} lignes) : "
    "rechargez la page ; rien n'a été enregistré."
)
TABLE_ACTIONS = ("insert", "update", "delete", "move", "paste", "replace")


def table_current_rows(dossier: Dossier, table: str) -> list[dict]:
    """The table's stored rows (the workbook's pre-filled rows while nothing was entered)."""
    if table in dossier.values:
        return [dict(row) for row in dossier.values[table]]
    return table_rows_stored(compiled_form(dossier.form_version), table)


def _parse_row(meta: TableMeta, number: int, entries: dict, errors: dict) -> dict:
    """Typed texts by column field → stored values; problems go to ``errors``."""
    parsed = {}
    for name, text in entries.items():
        info = meta.column(name)
        key = f"{meta.name}[{number}].{name}"
        if info is None:
            errors[key] = MSG_COLUMN_UNKNOWN.format(row=number, column=name)
        elif info.computed:
            errors[key] = MSG_COLUMN_COMPUTED.format(row=number, column=info.label)
        else:
            value = parse_value(info.data_type, text, choices=info.choices)
            if isinstance(value, Invalid):
                errors[key] = MSG_ROW_CELL.format(
                    row=number, column=info.label, message=value.message
                )
            else:
                parsed[info.name] = value
    return parsed


def _merge(row: dict, parsed: dict) -> dict:
    merged = dict(row)
    for name, value in parsed.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def dossier_table_save(
    *,
    dossier: Dossier,
    table: str,
    action: str,
    acting_user,
    index: int = 0,
    to: int = 0,
    entries: dict[str, str] | None = None,
    rows: list[dict[str, str]] | None = None,
    seen_count: int | None = None,
    source: str = ValueChange.Source.MANUAL,
) -> SaveResult:
    """One change of a multivalued table, all or nothing, as one write of the table's rows.

    ``action``: ``insert`` a row before ``index`` (``entries``: typed texts by column),
    ``update`` row ``index``, ``delete`` it, ``move`` it to ``to``, ``paste`` ``rows`` from row
    ``index`` on (rows added as needed), ``replace`` all rows by ``rows``. Indexes start at 0;
    messages number rows from 1. ``seen_count`` is the row count the person had on screen: a
    table changed meanwhile refuses the change."""
    DossierPolicy(acting_user, dossier).require_owner()
    meta = version_tables(dossier.form_version).get(table)
    if meta is None or action not in TABLE_ACTIONS:
        raise SaveRefused({table: MSG_TABLE_UNKNOWN}, {})
    current = table_current_rows(dossier, table)
    if seen_count is not None and seen_count != len(current):
        raise SaveRefused({table: MSG_STALE.format(table=table, count=len(current))}, {})
    errors: dict[str, str] = {}
    new = list(current)
    if action in ("update", "delete", "move") and not 0 <= index < len(current):
        raise SaveRefused({table: MSG_ROW_MISSING.format(row=index + 1)}, {})
    if action == "insert":
        index = max(0, min(index, len(new)))
        new.insert(index, _merge({}, _parse_row(meta, index + 1, entries or {}, errors)))
    elif action == "update":
        new[index] = _merge(new[index], _parse_row(meta, index + 1, entries or {}, errors))
    elif action == "delete":
        del new[index]
    elif action == "move":
        new.insert(max(0, min(to, len(new) - 1)), new.pop(index))
    elif action == "paste":
        for offset, row in enumerate(rows or []):
            at = index + offset
            parsed = _parse_row(meta, at + 1, row, errors)
            if at < len(new):
                new[at] = _merge(new[at], parsed)
            else:
                new.append(_merge({}, parsed))
    else:  # replace
        new = [_merge({}, _parse_row(meta, i + 1, row, errors)) for i, row in enumerate(rows or [])]
    if len(new) > meta.max_rows and len(new) > len(current):
        errors[table] = MSG_TABLE_FULL.format(table=table, cap=meta.max_rows)

    def describe(name, value) -> str:
        return f"{len(value or [])} ligne(s)"

    return dossier_values_apply(
        dossier=dossier,
        values={table: new},
        acting_user=acting_user,
        source=source,
        errors=errors,
        describe=describe,
    )
