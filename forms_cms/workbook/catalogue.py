"""The catalogue of a form workbook: one field per defined name.

Every data cell of a form carries an Excel **defined name**; the name is the field's identity
everywhere (database, harmonised XML, API), so it must be unique (case-insensitively, across
the workbook scope and every sheet scope), designate exactly one cell of an existing sheet,
and be a valid XML element name (``^[A-Za-z_][A-Za-z0-9_.]*$``). A field is an *input* (a
constant or empty cell) or *computed* (a formula cell).

``catalogue_read(wb)`` collects every problem before raising :class:`CatalogueError`, so the
gestionnaire fixes the workbook once. Names Excel keeps for itself (``_xlnm.Print_Area``,
``_xlnm._FilterDatabase``, ``_xlfn.…``: any name starting with ``_``) and hidden names
(add-ins, e.g. the Solver's) are ignored; so are names over several cells that a data
validation or a formula uses (lists of choices, ranges summed by formulas): they are kept in
``Catalogue.range_names`` and are not fields. A multi-cell name used nowhere is refused: it is
almost always an attempt to name a field over several cells.

**Tronc commun (common core)**: a field whose name begins with ``TC_`` (any case) belongs to
the tronc commun shared by the ministry's ER and a federation's form; its counterpart on the
other platform's form is the field with the same name. Nothing else marks it: renaming a
``TC_`` field breaks the correspondence.

Data types are documented in :mod:`forms_cms.workbook.datatypes`, labels in
:mod:`forms_cms.workbook.labels`. ``catalogue_diff(old, new)`` compares two versions of a
form by name (case-insensitively).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from openpyxl.cell.cell import MergedCell
from openpyxl.utils import column_index_from_string, get_column_letter

from forms_cms.workbook.cells import cell_at, formula_of, sheet_cells
from forms_cms.workbook.datatypes import (
    format_type,
    formula_type,
    is_required,
    list_choices,
    validation_type,
    validations_by_cell,
    value_type,
    x14_validations,
)
from forms_cms.workbook.labels import SheetLabels

INPUT, COMPUTED = "input", "computed"
WORKBOOK_SCOPE = "workbook"
COMMON_PREFIX = "TC_"
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
RESERVED_NAMES = ("declaration", "champs")  # the XML format's own elements
MAX_ROW, MAX_COL = 1_048_576, 16_384

_SHEET = r"(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^'!:,()\s=+\-*/&^<>\"]+))!"
_CELL = r"\$?[A-Za-z]{1,3}\$?\d+"
_AREA = rf"(?:{_CELL}(?::{_CELL})?|\$?[A-Za-z]{{1,3}}:\$?[A-Za-z]{{1,3}}|\$?\d+:\$?\d+)"
_REFERENCE = re.compile(rf"^(?:{_SHEET})?(?P<area>{_AREA})$")
_CELL_PARTS = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_IDENTIFIER = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*")


@dataclass
class FieldSpec:
    name: str
    sheet: str
    cell: str
    row: int
    column: int
    scope: str = WORKBOOK_SCOPE
    kind: str = INPUT
    data_type: str = "amount"
    choices: list[str] = field(default_factory=list)
    number_format: str = "General"
    label: str = ""
    required: bool = False
    common: bool = False
    formula: str = ""
    table: str = ""  # the Excel Table whose column this field is ("" for a single cell)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FieldSpec:
        return cls(**data)

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass
class Catalogue:
    fields: list[FieldSpec] = field(default_factory=list)
    range_names: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def by_name(self) -> dict[str, FieldSpec]:
        """Fields keyed by upper-case name."""
        return {f.name.upper(): f for f in self.fields}

    def fields_by_cell(self) -> dict[tuple[str, int, int], str]:
        return {(f.sheet, f.row, f.column): f.name for f in self.fields}

    def as_dict(self) -> dict:
        return {
            "fields": [f.as_dict() for f in self.fields],
            "range_names": list(self.range_names),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Catalogue:
        return cls(
            fields=[FieldSpec.from_dict(f) for f in data.get("fields", [])],
            range_names=list(data.get("range_names", [])),
            warnings=list(data.get("warnings", [])),
        )


class CatalogueError(Exception):
    """The workbook's names cannot make a catalogue; ``problems`` are French messages."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class NamedCell:
    name: str
    scope: str
    sheet: str
    row: int
    column: int

    @property
    def cell(self) -> str:
        return f"{get_column_letter(self.column)}{self.row}"


def _where(sheet: str, cell: str) -> str:
    return f"feuille « {sheet} », cellule {cell}"


def _cell_text(sheet: str, cell: str) -> str:
    return f"la cellule {cell} de la feuille « {sheet} »"


def _scope_text(scope: str) -> str:
    return "" if scope == WORKBOOK_SCOPE else f" (propre à la feuille « {scope} »)"


def defined_names(wb) -> list[tuple[str, str, object]]:
    """(name, scope, DefinedName) for every name: workbook scope first, then each sheet's."""
    found = []
    sheetnames = wb.sheetnames
    for name, defn in wb.defined_names.items():
        if defn.localSheetId is not None and 0 <= defn.localSheetId < len(sheetnames):
            found.append((name, sheetnames[defn.localSheetId], defn))
        else:
            found.append((name, WORKBOOK_SCOPE, defn))
    for ws in wb.worksheets:
        for name, defn in ws.defined_names.items():
            found.append((name, ws.title, defn))
    return found


def is_ignored(name: str, defn) -> bool:
    """Excel's own names (``_xlnm.…``, ``_xlfn.…``, any ``_…``) and hidden names."""
    return name.startswith("_") or bool(getattr(defn, "hidden", False))


def name_target(definition: str, scope: str, worksheets: set[str]) -> tuple[str, object]:
    """What a definition designates: ("cell", (sheet, row, col)), ("range", text),
    ("ref_error" | "external" | "not_reference" | "no_sheet", text) or ("missing_sheet",
    (sheet, text))."""
    text = (definition or "").strip().lstrip("=").strip()
    if "#REF!" in text.upper():
        return "ref_error", text
    if text.startswith("[") or re.match(r"^'?\[", text):
        return "external", text
    parts = _split_union(text)
    matches = [_REFERENCE.match(part.strip()) for part in parts]
    if not text or not all(matches):
        return "not_reference", text
    if len(matches) > 1:
        return "range", text
    match = matches[0]
    sheet = match.group("q")
    sheet = sheet.replace("''", "'") if sheet else match.group("u")
    if sheet is None:
        if scope == WORKBOOK_SCOPE:
            return "no_sheet", text
        sheet = scope
    if ":" in sheet:
        return "range", text  # 3-D reference over several sheets
    if sheet not in worksheets:
        return "missing_sheet", (sheet, match.group("area"))
    area = match.group("area").replace("$", "")
    first, _, last = area.partition(":")
    if last and last.upper() != first.upper():
        return "range", text
    cell = _CELL_PARTS.match(first)
    if not cell:
        return "range", text  # whole row or column
    column = column_index_from_string(cell.group(1).upper())
    row = int(cell.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= column <= MAX_COL):
        return "not_reference", text
    return "cell", (sheet, row, column)


def _split_union(text: str) -> list[str]:
    """Split ``A!$A$1,A!$B$2`` on commas outside quotes."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def named_cells(wb) -> list[NamedCell]:
    """Every non-ignored name designating one cell of an existing sheet (no checks beyond)."""
    worksheets = {ws.title for ws in wb.worksheets}
    found = []
    for name, scope, defn in defined_names(wb):
        if is_ignored(name, defn):
            continue
        kind, target = name_target(defn.attr_text, scope, worksheets)
        if kind == "cell":
            found.append(NamedCell(name, scope, *target))
    return found


def _used_identifiers(wb, validations: dict) -> set[str]:
    """Upper-case identifiers appearing in formulas and validations (over-inclusive)."""
    used: set[str] = set()
    for ws in wb.worksheets:
        for cell in sheet_cells(ws):
            text = formula_of(cell)
            if text:
                used.update(token.upper() for token in _IDENTIFIER.findall(text))
        dvs = list(ws.data_validations.dataValidation) + validations.get(ws.title, [])
        for dv in dvs:
            for text in (dv.formula1, dv.formula2):
                if text:
                    used.update(token.upper() for token in _IDENTIFIER.findall(text))
    return used


def catalogue_read(wb, *, source: bytes | None = None) -> Catalogue:
    """The fields of a workbook loaded with ``data_only=False``.

    ``source`` (the file's bytes) lets validations stored in Excel's x14 extension, which
    openpyxl drops, count for data types and the required flag."""
    catalogue = Catalogue()
    problems: list[str] = []
    worksheets = {ws.title: ws for ws in wb.worksheets}
    extra_validations = x14_validations(source) if source else {}
    used: set[str] | None = None
    resolved: list[NamedCell] = []
    spellings: dict[str, list[tuple[str, str, str]]] = {}
    definitions: dict = {}

    tables = workbook_tables(wb)
    for name, scope, defn in defined_names(wb):
        text = defn.attr_text or ""
        if is_ignored(name, defn) or _is_row_cap(name, tables):
            catalogue.range_names.append(name)
            continue
        definitions[name.upper() if scope == WORKBOOK_SCOPE else (scope, name.upper())] = text
        kind, target = name_target(text, scope, set(worksheets))
        label = f"Le nom « {name} »{_scope_text(scope)}"
        place = ""
        if kind == "ref_error":
            problems.append(
                f"{label} désigne une référence invalide (#REF!) : corrigez ou supprimez ce nom "
                "dans le gestionnaire de noms d'Excel (onglet Formules)."
            )
        elif kind == "external":
            problems.append(
                f"{label} désigne une cellule d'un autre classeur ({text}) : un champ est une "
                "cellule de ce classeur ; corrigez ou supprimez ce nom dans le gestionnaire de "
                "noms d'Excel."
            )
        elif kind in ("not_reference", "no_sheet"):
            problems.append(
                f"{label} ne désigne pas une cellule mais une constante ou une formule ({text}) : "
                "un champ est une cellule ; placez la valeur dans une cellule et nommez cette "
                "cellule, ou supprimez ce nom dans le gestionnaire de noms d'Excel."
            )
        elif kind == "missing_sheet":
            sheet, area = target
            problems.append(
                f"{label} désigne {area.replace('$', '')} dans la feuille « {sheet} », qui "
                "n'existe pas dans le classeur : corrigez ce nom (ou la feuille) dans le "
                "gestionnaire de noms d'Excel, ou supprimez-le."
            )
        elif kind == "range":
            if used is None:
                used = _used_identifiers(wb, extra_validations)
            if name.upper() in used:
                catalogue.range_names.append(name)
                continue
            problems.append(
                f"{label} désigne plusieurs cellules ({text}) : un champ est une seule cellule ; "
                "nommez chaque cellule séparément et supprimez ce nom."
            )
        else:
            named = NamedCell(name, scope, *target)
            place = f" ({_where(named.sheet, named.cell)})"
            resolved.append(named)
        spellings.setdefault(name.upper(), []).append((name, scope, place))
        if name.lower() in RESERVED_NAMES:
            problems.append(
                f"{label}{place} est réservé par le format XML harmonisé (« declaration » et "
                "« champs » en sont les éléments) ; renommez-le dans le gestionnaire de noms "
                "d'Excel."
            )
        elif not XML_NAME.match(name):
            problems.append(
                f"{label}{place} n'est pas utilisable comme identifiant de champ : il doit "
                "commencer par une lettre sans accent ou « _ » et ne contenir que des lettres "
                "sans accent, des chiffres, « _ » et « . » (il devient un élément du format "
                "XML) ; renommez-le dans le gestionnaire de noms d'Excel."
            )

    for occurrences in spellings.values():
        if len(occurrences) > 1:
            listed = " et ".join(
                f"« {name} »{' au niveau du classeur' if scope == WORKBOOK_SCOPE else ''}"
                f"{_scope_text(scope)}{place}"
                for name, scope, place in occurrences
            )
            problems.append(
                f"Le nom « {occurrences[0][0]} » est défini plusieurs fois : {listed}. Le nom "
                "identifie le champ (base de données, format XML) et Harmonia ne distingue ni "
                "les portées ni les majuscules : renommez ou supprimez l'un d'eux dans le "
                "gestionnaire de noms d'Excel."
            )

    by_cell: dict[tuple[str, int, int], list[NamedCell]] = {}
    for named in resolved:
        by_cell.setdefault((named.sheet, named.row, named.column), []).append(named)
    for (sheet, _, _), names in by_cell.items():
        if len(names) > 1:
            listed = ", ".join(f"« {n.name} »" for n in names)
            problems.append(
                f"La cellule {names[0].cell} de la feuille « {sheet} » porte plusieurs noms "
                f"({listed}) : un champ n'a qu'un nom ; gardez-en un et supprimez les autres "
                "dans le gestionnaire de noms d'Excel."
            )
    for named in resolved:
        cell = cell_at(worksheets[named.sheet], named.row, named.column)
        if isinstance(cell, MergedCell):
            merged = next(
                (m for m in worksheets[named.sheet].merged_cells.ranges if named.cell in m),
                None,
            )
            first = merged.coord.split(":")[0] if merged else "?"
            problems.append(
                f"Le nom « {named.name} » désigne {_cell_text(named.sheet, named.cell)}, "
                f"masquée par la fusion {merged.coord if merged else ''} : nommez la première "
                f"cellule de la fusion ({first}) ou annulez la fusion."
            )
    if problems:
        raise CatalogueError(problems)

    order = {title: i for i, title in enumerate(wb.sheetnames)}
    resolved.sort(key=lambda n: (order[n.sheet], n.row, n.column))
    per_sheet: dict[str, list[NamedCell]] = {}
    for named in resolved:
        per_sheet.setdefault(named.sheet, []).append(named)
    for sheet, names in sorted(per_sheet.items(), key=lambda item: order[item[0]]):
        catalogue.fields.extend(
            _sheet_fields(wb, worksheets[sheet], names, extra_validations, definitions, catalogue)
        )
    _table_columns(catalogue, tables)
    return catalogue


def workbook_tables(wb) -> dict[tuple[str, int, int], tuple[str, str]]:
    """First data cell of every Excel Table column → (table name, header text)."""
    from openpyxl.utils.cell import range_boundaries

    found = {}
    for ws in wb.worksheets:
        for table in ws.tables.values():
            c1, r1, _c2, _r2 = range_boundaries(table.ref)
            first = r1 + (1 if table.headerRowCount is None else int(table.headerRowCount))
            for i, column in enumerate(table.tableColumns):
                found[(ws.title, first, c1 + i)] = (table.displayName, column.name or "")
    return found


def _is_row_cap(name: str, tables) -> bool:
    """``MAX_LIGNES_<TABLE>`` sets a table's row cap (read by the engine): not a field."""
    if not name.upper().startswith("MAX_LIGNES_"):
        return False
    wanted = name.upper().removeprefix("MAX_LIGNES_")
    return any(table.upper() == wanted for table, _ in tables.values())


def _table_columns(catalogue: Catalogue, tables) -> None:
    """A name on a table column's first data cell is that column: its label is the header."""
    if not tables:
        return
    for spec in catalogue.fields:
        found = tables.get((spec.sheet, spec.row, spec.column))
        if found is not None:
            spec.table, header = found
            spec.label = header.strip() or spec.label
            spec.common = spec.common or spec.table.upper().startswith(COMMON_PREFIX)


def _sheet_fields(wb, ws, names, extra_validations, definitions, catalogue) -> list[FieldSpec]:
    cells = {(n.row, n.column) for n in names}
    labels = SheetLabels(ws, cells)
    validations = list(ws.data_validations.dataValidation) + extra_validations.get(ws.title, [])
    covering = validations_by_cell(validations, cells)
    fields = []
    for named in names:
        cell = cell_at(ws, named.row, named.column)
        formula = formula_of(cell)
        value = None if cell is None or formula else cell.value
        number_format = (cell.number_format if cell is not None else None) or "General"
        dv = covering.get((named.row, named.column))
        kind = COMPUTED if formula else INPUT
        choices: list[str] = []
        if dv is not None and dv.type == "list":
            choices = list_choices(dv.formula1, wb, ws.title, definitions) or []
            if choices:
                data_type = "choice"
            else:
                data_type = "text"
                catalogue.warnings.append(
                    f"La liste de choix du champ « {named.name} » "
                    f"({_where(ws.title, named.cell)}, source {dv.formula1}) n'a pas pu être "
                    "lue : le champ est traité comme un texte libre. Pour une liste fermée, "
                    "écrivez les choix dans la validation (« Oui,Non ») ou référencez une "
                    "plage de cellules."
                )
        else:
            data_type = (
                format_type(number_format)
                or validation_type(dv)
                or (formula_type(formula) if formula else value_type(value))
            )
        fields.append(
            FieldSpec(
                name=named.name,
                sheet=ws.title,
                cell=named.cell,
                row=named.row,
                column=named.column,
                scope=named.scope,
                kind=kind,
                data_type=data_type,
                choices=choices,
                number_format=number_format,
                label=labels.label(named.row, named.column, named.name),
                required=kind == INPUT and is_required(dv),
                common=named.name.upper().startswith(COMMON_PREFIX),
                formula=formula,
            )
        )
    return fields


# --- comparing two versions ----------------------------------------------------------------


@dataclass
class ChangeList:
    """What changed between two catalogues, by field name (case-insensitive)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)  # name, old, new
    formula_changed: list[tuple[str, str, str]] = field(default_factory=list)
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # name, old/new Sheet!A1

    @property
    def is_empty(self) -> bool:
        return not (
            self.added or self.removed or self.retyped or self.formula_changed or self.moved
        )

    def as_dict(self) -> dict:
        def rows(items):
            return [{"name": name, "old": old, "new": new} for name, old, new in items]

        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "retyped": rows(self.retyped),
            "formula_changed": rows(self.formula_changed),
            "moved": rows(self.moved),
        }


def _type_text(spec: FieldSpec) -> str:
    text = f"{spec.kind} {spec.data_type}"
    if spec.data_type == "choice":
        text += " (" + " | ".join(spec.choices) + ")"
    return text


def catalogue_diff(old: Catalogue, new: Catalogue) -> ChangeList:
    changes = ChangeList()
    before, after = old.by_name(), new.by_name()
    changes.added = [after[key].name for key in after if key not in before]
    changes.removed = [before[key].name for key in before if key not in after]
    for key, spec in after.items():
        previous = before.get(key)
        if previous is None:
            continue
        if _type_text(previous) != _type_text(spec):
            changes.retyped.append((spec.name, _type_text(previous), _type_text(spec)))
        if previous.formula and spec.formula and previous.formula.strip() != spec.formula.strip():
            changes.formula_changed.append((spec.name, previous.formula, spec.formula))
        if (previous.sheet, previous.cell) != (spec.sheet, spec.cell):
            changes.moved.append((spec.name, previous.where, spec.where))
    return changes
