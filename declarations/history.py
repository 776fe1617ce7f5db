"""Reading a dossier's past: the history of its values and what changed between two
transmissions. Reads only; the caller asks the dossier's policy first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from forms_cms.fields import FieldInfo
from forms_cms.formats import format_value
from workflow.models import DossierExport, ValueChange


def shown(fields: dict[str, FieldInfo], name: str, value) -> str:
    """A stored value as the online form shows it ("vide" when empty)."""
    info = fields.get(name)
    if value is None or value == "":
        return "vide"
    if info is None:  # a field removed by a later version of the form
        return str(value)
    return format_value(value, info.data_type, info.number_format) or "vide"


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
