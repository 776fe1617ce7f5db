"""Reading a dossier's past: the history of its values and what changed between two
transmissions. Reads only; the caller asks the dossier's policy first."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import QuerySet

from forms_cms.fields import FieldInfo, TableMeta
from forms_cms.formats import format_value
from workflow.models import DossierExport, ValueChange


def shown(fields: dict[str, FieldInfo], name: str, value) -> str:
    """A stored value as the online form shows it ("vide" when empty)."""
    info = fields.get(name)
    if value is None or value == "":
        return "vide"
    if value.__class__ is list:  # a multivalued table's rows
        return rows_count(value)
    if info is None:  # a field removed by a later version of the form
        return str(value)
    return format_value(value, info.data_type, info.number_format) or "vide"


def _rows(value) -> list[dict]:
    return [r if isinstance(r, dict) else {} for r in value] if value.__class__ is list else []


def rows_count(value) -> str:
    count = len(_rows(value))
    return "aucune ligne" if not count else f"{count} ligne" + ("s" if count > 1 else "")


def table_change_lines(meta: TableMeta, old, new) -> list[str]:
    """A table's change (old and new row lists) as rows added, removed and changed, in
    French, rows numbered from 1 (removed rows by their old number, the others by their new
    one); a changed row lists its changed columns « Libellé : avant → après »."""
    columns = {c.name: c for c in meta.columns}
    before, after = _rows(old), _rows(new)

    def label(name):
        info = columns.get(name)
        return info.label or name if info else name

    def cell(name, value):
        return shown(columns, name, value)

    def described(row):
        parts = [f"{label(n)} : {cell(n, v)}" for n, v in row.items() if v not in (None, "")]
        return " ; ".join(parts) or "vide"

    def key(row):
        return tuple(sorted((n, repr(v)) for n, v in row.items() if v not in (None, "")))

    lines = []
    matcher = SequenceMatcher(a=[key(r) for r in before], b=[key(r) for r in after])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            old_row, new_row = before[i1 + k], after[j1 + k]
            diffs = [
                f"{label(n)} : {cell(n, old_row.get(n))} → {cell(n, new_row.get(n))}"
                for n in [*old_row, *(n for n in new_row if n not in old_row)]
                if old_row.get(n) != new_row.get(n)
            ]
            lines.append(f"ligne {j1 + k + 1} modifiée : " + " ; ".join(diffs))
        for i in range(i1 + paired, i2):
            lines.append(f"ligne {i + 1} supprimée ({described(before[i])})")
        for j in range(j1 + paired, j2):
            lines.append(f"ligne {j + 1} ajoutée ({described(after[j])})")
    return lines


def value_history(dossier, *, field_name: str = "", until=None) -> QuerySet[ValueChange]:
    """The dossier's value changes, newest first; one field's when ``field_name`` is given;
    only those made up to ``until`` (the last transmission, for a reader of the snapshot)."""
    changes = ValueChange.objects.filter(dossier=dossier).select_related("changed_by")
    if field_name:
        changes = changes.filter(field_name=field_name)
    if until is not None:
        changes = changes.filter(changed_at__lte=until)
    return changes


def transmissions(dossier) -> list[DossierExport]:
    """The XML snapshots of every transmission, oldest first (frozen values included)."""
    return list(
        DossierExport.objects.filter(
            dossier=dossier, kind=DossierExport.Kind.XML, step_change__isnull=False
        )
        .select_related("step_change__changed_by")
        .defer("content")
        .order_by("requested_at", "pk")
    )


@dataclass(frozen=True)
class Difference:
    name: str
    label: str
    computed: bool
    before: str
    after: str


def transmission_differences(
    older: DossierExport, newer: DossierExport, fields: dict[str, FieldInfo]
) -> list[Difference]:
    """Fields whose value differs between two transmitted snapshots, entered fields first,
    each group in name order."""
    out = []
    for kind, before_values, after_values in (
        (False, older.frozen_values or {}, newer.frozen_values or {}),
        (True, older.frozen_computed or {}, newer.frozen_computed or {}),
    ):
        for name in sorted(set(before_values) | set(after_values)):
            before, after = before_values.get(name), after_values.get(name)
            if before == after:
                continue
            info = fields.get(name)
            out.append(
                Difference(
                    name=name,
                    label=info.label if info else "",
                    computed=kind,
                    before=shown(fields, name, before),
                    after=shown(fields, name, after),
                )
            )
    return out
