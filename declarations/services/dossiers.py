"""Saving what a person typed in the online form: parsed here (French formats), written by
the dossier's write gate (``workflow.actions``), which checks, locks, records, recomputes."""

from __future__ import annotations

from forms_cms.fields import FieldInfo, version_fields
from forms_cms.formats import Invalid, format_value, parse_value
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
