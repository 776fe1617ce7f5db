"""The fields of a form version as the declaration screens need them, cached per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

from forms_cms.models import Field


@dataclass(frozen=True)
class FieldInfo:
    name: str
    sheet: str
    row: int
    column: int
    computed: bool
    data_type: str
    number_format: str
    choices: tuple[str, ...]
    label: str
    required: bool


@lru_cache(maxsize=32)
def _fields(schema: str, version_id: int, labels_stamp: str) -> dict[str, FieldInfo]:
    return {
        name: FieldInfo(
            name,
            sheet,
            row,
            column,
            kind == Field.Kind.COMPUTED,
            data_type,
            number_format,
            tuple(choices or ()),
            label,
            required,
        )  # fmt: skip
        for name, sheet, row, column, kind, data_type, number_format, choices, label, required in (
            Field.objects.filter(version_id=version_id).values_list(
                "name",
                "sheet",
                "row",
                "column",
                "kind",
                "data_type",
                "number_format",
                "choices",
                "label",
                "required",
            )  # fmt: skip
        )
    }


def version_fields(version) -> dict[str, FieldInfo]:
    """Field name → :class:`FieldInfo` for a form version (labels edited later included:
    the cache key follows the version's last field edit)."""
    stamp = version.fields_edited_at.isoformat() if version.fields_edited_at else ""
    return _fields(connection.schema_name, version.pk, stamp)
