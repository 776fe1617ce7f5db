"""The fields and sheets of a form version as the declaration screens need them, cached per
process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection
from django.db.models.fields.json import KT

from forms_cms.models import Field, FormVersion, SheetLayout
from forms_cms.services.runtime import compiled_form


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
            Field.objects.filter(version_id=version_id, table="").values_list(
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
    """Field name → :class:`FieldInfo` for a form version's single-cell fields (labels edited
    later included: the cache key follows the version's last field edit). The columns of
    multivalued tables are in :func:`version_tables`."""
    return _fields(connection.schema_name, version.pk, _stamp(version))


def _stamp(version) -> str:
    return version.fields_edited_at.isoformat() if version.fields_edited_at else ""


@dataclass(frozen=True)
class TableMeta:
    """A multivalued table (« champ dynamique ») of a form version."""

    name: str
    sheet: str
    header_row: int | None
    first_row: int
    last_row: int
    totals_row: int | None
    max_rows: int
    columns: tuple[FieldInfo, ...]

    @property
    def common(self) -> bool:
        return self.name.upper().startswith("TC_")

    @property
    def inputs(self) -> tuple[FieldInfo, ...]:
        return tuple(c for c in self.columns if not c.computed)

    def column(self, name: str) -> FieldInfo | None:
        key = name.upper()
        return next((c for c in self.columns if c.name.upper() == key), None)


@lru_cache(maxsize=32)
def _tables(schema: str, version_id: int, labels_stamp: str) -> dict[str, TableMeta]:
    form = compiled_form(FormVersion(pk=version_id))
    if not form.tables:  # most forms: no query
        return {}
    by_name = {}
    for f in Field.objects.filter(version_id=version_id).exclude(table=""):
        by_name[f.name] = FieldInfo(
            f.name, f.sheet, f.row, f.column, f.kind == Field.Kind.COMPUTED, f.data_type,
            f.number_format, tuple(f.choices or ()), f.label, f.required,
        )  # fmt: skip
    return {
        name: TableMeta(
            name=name,
            sheet=info.sheet,
            header_row=info.header_row,
            first_row=info.first_row,
            last_row=info.last_row,
            totals_row=info.totals_row,
            max_rows=info.max_rows,
            columns=tuple(by_name[c.field] for c in info.columns if c.field in by_name),
        )
        for name, info in form.tables.items()
    }


def version_tables(version) -> dict[str, TableMeta]:
    """Table name → :class:`TableMeta` (columns in the sheet's order, with their labels)."""
    return _tables(connection.schema_name, version.pk, _stamp(version))


@dataclass(frozen=True)
class SheetInfo:
    pk: int
    position: int
    name: str
    hidden: bool  # hidden in the workbook: not shown, nor counted


@lru_cache(maxsize=64)
def _sheets(schema: str, version_id: int) -> tuple[SheetInfo, ...]:
    return tuple(
        SheetInfo(pk, position, name, hidden == "true")
        for pk, position, name, hidden in SheetLayout.objects.filter(version_id=version_id)
        .order_by("position")
        .annotate(hidden=KT("layout__hidden"))
        .values_list("pk", "position", "name", "hidden")
    )


def version_sheets(version) -> tuple[SheetInfo, ...]:
    """The version's sheets in their order. Read once per process: a stored version's sheets
    never change (and reading whether each is hidden reads all their layouts, ~1.4 MB for the
    ER Sociaux)."""
    return _sheets(connection.schema_name, version.pk)
