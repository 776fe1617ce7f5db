"""Compiling Excel Tables: the compiler's part that knows about tables (see ``tables``).

Mixed into :class:`forms_cms.engine.compiler.Compiler`, whose state it uses (``ids``,
``deps``, ``current``, ``problem()``, ``cell_id()``, ``expr()``).
"""

from __future__ import annotations

from openpyxl.utils.cell import get_column_letter

from forms_cms.engine import parser as p
from forms_cms.engine.reader import Address, TableDef
from forms_cms.engine.tables import (
    DEFAULT_MAX_ROWS,
    MAX_ROWS_PREFIX,
    XML_NAME,
    Column,
    TableInfo,
)


class Unsupported(Exception):
    """A formula the engine refuses, with the reason for the gestionnaire."""

    def __init__(self, reason: str, function: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.function = function


class Layout:
    """A table while compiling: its definition, columns and workbook rows."""

    def __init__(self, d: TableDef):
        self.d = d
        self.columns: list[Column] = []
        self.by_header: dict[str, int] = {}
        self.formulas: dict[int, tuple[Address, str]] = {}  # column index → first formula
        self.rows: list[list] = []
        self.max_rows = DEFAULT_MAX_ROWS
        self.whole: dict[int, bool] = {}  # calculated slot → reads whole columns

    @classmethod
    def from_info(cls, info: TableInfo) -> Layout:
        """A compiled table seen again by a formula over field names (controls)."""
        d = TableDef(
            name=info.name,
            sheet=info.sheet,
            r1=info.header_row or info.first_row,
            c1=info.columns[0].col,
            r2=info.totals_row or info.last_row,
            c2=info.columns[-1].col,
            header_rows=1 if info.header_row else 0,
            totals_rows=1 if info.totals_row else 0,
            headers=[c.header for c in info.columns],
        )
        layout = cls(d)
        layout.columns = list(info.columns)
        for i, c in enumerate(info.columns):
            layout.by_header.setdefault(c.header.strip().upper(), i)
        for i, c in enumerate(info.columns):
            layout.by_header.setdefault(c.field.upper(), i)
        return layout

    @property
    def anchor(self) -> int:
        for c in self.columns:
            if not c.computed:
                return c.slot
        return self.columns[0].slot

    def cell(self, row: int, col: int) -> str:
        return f"{get_column_letter(col)}{row}"


def _name_target(definition: str):
    try:
        node = p.parse_reference(definition.lstrip("="))
    except p.FormulaSyntaxError:
        return None
    if isinstance(node, p.Ref) and node.is_cell:
        return (node.sheet, node.r1, node.c1)
    return None


class TablesMixin:
    # preparing ---------------------------------------------------------------------------
    def tables_prepare(self) -> None:
        """Lay out every table: its cells leave the value list, each column gets a slot."""
        self.header_cells: dict[Address, Layout] = {}
        self.column_names: set[Address] = set()
        self.slot_tables: dict[int, Layout] = {}
        book = self.book
        if not book.tables:
            return
        names_by_cell: dict[Address, list[str]] = {}
        for (scope, _key), (name, definition) in book.names.items():
            target = _name_target(definition)
            sheet = target and self.sheet_name(target[0], scope or book.sheets[0])
            if sheet:
                names_by_cell.setdefault((sheet, target[1], target[2]), []).append(name)
        for d in book.tables:
            first = (d.sheet, d.data_r1, d.c1)
            other = self.tables.get(d.name.upper())
            if other is not None:
                self.problem(
                    first,
                    f"deux tableaux portent le nom {d.name} (feuilles « {other.d.sheet} » et "
                    f"« {d.sheet} ») : renommez l'un d'eux (Création de tableau › Nom du "
                    "tableau)",
                )
                continue
            if not XML_NAME.match(d.name):
                self.problem(
                    first,
                    f"le nom du tableau « {d.name} » ne peut pas servir d'élément XML : "
                    "n'utilisez que des lettres sans accent, des chiffres et « _ », en "
                    "commençant par une lettre",
                )
            if (None, d.name.upper()) in book.names:
                self.problem(
                    first,
                    f"le tableau {d.name} porte le nom d'une cellule nommée : dans le XML, "
                    "les deux seraient le même élément ; renommez le tableau ou le nom",
                )
            if d.data_r2 < d.data_r1:
                self.problem(first, f"le tableau {d.name} n'a aucune ligne de données")
                continue
            layout = Layout(d)
            self.tables[d.name.upper()] = layout
            for r in range(d.r1, d.r2 + 1):
                for c in range(d.c1, d.c2 + 1):
                    if d.data_r1 <= r <= d.data_r2:
                        self.table_cells[(d.sheet, r, c)] = layout
                    elif r == d.header_row:
                        self.header_cells[(d.sheet, r, c)] = layout
            self.table_columns(layout, names_by_cell)
            self.table_rows(layout)
            self.table_cap(layout)

    def table_columns(self, layout: Layout, names_by_cell) -> None:
        d = layout.d
        for i, header in enumerate(d.headers):
            col = d.c1 + i
            first = (d.sheet, d.data_r1, col)
            key = header.strip().upper()
            if not key:
                self.problem(first, f"une colonne du tableau {d.name} n'a pas d'en-tête")
            elif key in layout.by_header:
                self.problem(first, f"deux colonnes du tableau {d.name} ont l'en-tête « {header} »")
            layout.by_header.setdefault(key, i)
            field_names = names_by_cell.get(first, [])
            field = field_names[0] if field_names else ""
            if not field:
                self.problem(
                    first,
                    f"la colonne « {header} » du tableau {d.name} n'a pas de nom : "
                    f"définissez un nom sur sa première cellule de données "
                    f"({layout.cell(d.data_r1, col)}) ; il identifie la colonne dans le XML",
                )
            elif not XML_NAME.match(field):
                self.problem(
                    first,
                    f"le nom {field} de la colonne « {header} » ne peut pas servir d'élément "
                    "XML : n'utilisez que des lettres sans accent, des chiffres et « _ »",
                )
            self.column_names.add(first)
            formula = None
            for r in range(d.data_r1, d.data_r2 + 1):
                text = self.book.formulas.get((d.sheet, r, col))
                if text is not None:
                    formula = ((d.sheet, r, col), text)
                    break
            if formula is None and i in d.calculated:
                formula = (first, d.calculated[i])
            if formula is not None:
                layout.formulas[i] = formula
            slot = self.cell_id(first)
            layout.columns.append(Column(field, header, col, slot, formula is not None))
            self.slot_tables[slot] = layout
        if layout.columns and all(c.computed for c in layout.columns):
            self.problem(
                (d.sheet, d.data_r1, d.c1),
                f"le tableau {d.name} n'a aucune colonne de saisie : toutes ses colonnes "
                "sont calculées",
            )

    def table_rows(self, layout: Layout) -> None:
        """The workbook's rows with a value in an input column (pre-filled rows)."""
        d = layout.d
        inputs = [c for c in layout.columns if not c.computed]
        rows = []
        for r in range(d.data_r1, d.data_r2 + 1):
            row = []
            for c in inputs:
                value = self.book.constants.get((d.sheet, r, c.col))
                row.append(float(value) if value.__class__ is int else value)
            rows.append(row)
        while rows and all(x is None for x in rows[-1]):
            rows.pop()
        layout.rows = rows

    def table_cap(self, layout: Layout) -> None:
        found = self.book.names.get((None, MAX_ROWS_PREFIX + layout.d.name.upper()))
        if found is None:
            return
        text = found[1].lstrip("=").strip()
        try:
            cap = int(float(text))
        except ValueError:
            cap = 0
        if cap < 1:
            self.problem(
                (layout.d.sheet, layout.d.data_r1, layout.d.c1),
                f"le nom {found[0]} doit valoir un nombre de lignes (ex. =200), pas « {found[1]} »",
            )
            return
        layout.max_rows = cap

    def table_info(self, layout: Layout, order: list[int]) -> TableInfo:
        position = {cid: i for i, cid in enumerate(order)}
        row_local = sorted(
            (slot for slot, whole in layout.whole.items() if not whole),
            key=position.__getitem__,
        )
        d = layout.d
        return TableInfo(
            name=d.name,
            sheet=d.sheet,
            header_row=d.header_row,
            first_row=d.data_r1,
            last_row=d.data_r2,
            totals_row=d.totals_row,
            columns=layout.columns,
            max_rows=layout.max_rows,
            rows=layout.rows,
            row_local=row_local,
        )

    # calculated columns ----------------------------------------------------------------------
    def calculated_columns_compile(self, deps: dict, bodies: dict) -> dict[int, str]:
        """Compile each calculated column once, as a function of the row index ``i``."""
        row_bodies: dict[int, str] = {}
        for layout in self.tables.values():
            for i, column in enumerate(layout.columns):
                if not column.computed:
                    continue
                address, text = layout.formulas[i]
                try:
                    tree = p.parse(text)
                except p.FormulaSyntaxError as exc:
                    self.problem(address, f"formule illisible ({text}) : {exc}")
                    continue
                self.deps = set()
                self.temp = 0
                self.hoisted = []
                self.current = address
                self.row_table, self.row_number, self.whole_reads = layout, address[1], False
                try:
                    expr = self.expr(tree, address[0], 0)
                except Unsupported as exc:
                    self.problem(address, exc.reason, exc.function)
                    continue
                finally:
                    self.row_table = None
                self.deps.add(layout.anchor)
                deps[column.slot] = self.deps
                bodies[column.slot] = "None"
                row_bodies[column.slot] = (f"top({expr})", self.hoisted)
                layout.whole[column.slot] = self.whole_reads
        return row_bodies

    def hoist(self, code: str) -> str:
        """A part of a calculated column's formula that does not depend on the row
        (``SUM(Filiales[Capital])``): computed once per column, not once per row."""
        self.hoisted.append(code)
        return f"h[{len(self.hoisted) - 1}]"

    def calculated_column_source(self, slot: int, body) -> list[str]:
        """``r<slot>(v, i)`` computes one row, ``f<slot>(v)`` the whole column."""
        expr, hoisted = body
        layout = self.slot_tables[slot]
        inputs = tuple(c.slot for c in layout.columns if not c.computed)
        lines = []
        if hoisted:
            steps = "".join(f"    h.append({code})\n" for code in hoisted)
            lines.append(f"def h{slot}(v):\n    h = []\n{steps}    return h")
            lines.append(
                f"def r{slot}(v, i, h=None):\n    if h is None:\n        h = h{slot}(v)\n"
                f"    return {expr}"
            )
            whole = f"h = h{slot}(v)\n    v[{slot}] = [r{slot}(v, i, h) for i in range(n)]"
        else:
            lines.append(f"def r{slot}(v, i):\n    return {expr}")
            whole = f"v[{slot}] = [r{slot}(v, i) for i in range(n)]"
        lines.append(
            f"def f{slot}(v):\n    n = len(v[{layout.anchor}])\n    if not n:\n"
            f"        v[{slot}] = tblank(v, {inputs!r}, r{slot})\n        return\n    {whole}"
        )
        return lines

    # references ------------------------------------------------------------------------------
    def table_named(self, name: str | None) -> Layout:
        if name is None:
            if self.row_table is not None:
                return self.row_table
            for layout in self.tables.values():
                d = layout.d
                sheet, row, col = self.current
                if d.sheet == sheet and d.r1 <= row <= d.r2 and d.c1 <= col <= d.c2:
                    return layout
            raise Unsupported(
                "une référence structurée sans nom de tableau ([@Colonne]) ne s'emploie que "
                "dans le tableau : écrivez NomDuTableau[Colonne]"
            )
        layout = self.tables.get(name.upper())
        if layout is None:
            raise Unsupported(f"le tableau {name} n'existe pas dans ce classeur")
        return layout

    def table_column_range(self, layout: Layout, node: p.StructRef) -> list[Column]:
        if node.first is None:
            return layout.columns
        indexes = []
        for header in (node.first, node.last):
            i = layout.by_header.get(header.strip().upper())
            if i is None:
                known = ", ".join(f"« {c.header} »" for c in layout.columns)
                raise Unsupported(
                    f"le tableau {layout.d.name} n'a pas de colonne « {header} » "
                    f"(ses colonnes : {known})"
                )
            indexes.append(i)
        a, b = sorted(indexes)
        return layout.columns[a : b + 1]

    def structured(self, node: p.StructRef, as_ref: bool) -> str:
        layout = self.table_named(node.table)
        columns = self.table_column_range(layout, node)
        slots = tuple(c.slot for c in columns)
        d = layout.d
        if node.area == "row":
            self.deps.update(slots)
            if self.row_table is layout:
                items = [f"v[{s}][i]" for s in slots]
            elif self.row_table is None and d.data_r1 <= self.current[1] <= d.data_r2:
                # a cell beside the table, on one of its rows in the workbook
                k = self.current[1] - d.data_r1
                items = [f"tcell(v[{s}], {k})" for s in slots]
            else:
                return "E_VALUE"
            if len(items) == 1:
                return f"ref1({items[0]})" if as_ref else items[0]
            return f"array_const(1, {len(items)}, ({', '.join(items)},))"
        if node.area == "headers":
            if d.header_row is None:
                return "E_REF"
            return self.ref(p.Ref(d.sheet, d.header_row, columns[0].col, d.header_row,
                                  columns[-1].col), d.sheet, True)  # fmt: skip
        if node.area == "totals":
            if d.totals_row is None:
                return "E_REF"
            return self.ref(p.Ref(d.sheet, d.totals_row, columns[0].col, d.totals_row,
                                  columns[-1].col), d.sheet, as_ref)  # fmt: skip
        self.note_whole_read(slots)
        if node.area == "all":
            top_row = d.header_row or d.data_r1
            bottom = d.totals_row or d.data_r2
            return self.ref(p.Ref(d.sheet, top_row, columns[0].col, bottom, columns[-1].col),
                            d.sheet, True)  # fmt: skip
        if len(slots) == 1:
            return f"tcol(v[{slots[0]}])"
        return f"tcols(v, {slots!r})"

    def note_whole_read(self, slots) -> None:
        self.deps.update(slots)
        self.whole_reads = True

    def crosses_table(self, node: p.Ref, own: str) -> bool:
        sheet = self.sheet_name(node.sheet, own)
        return any(
            layout.d.sheet == sheet and _overlaps(node, layout.d) for layout in self.tables.values()
        )

    def table_range(self, node: p.Ref, sheet: str, as_ref: bool) -> str | None:
        """A plain reference that reaches a table's data rows, or ``None`` when it does not."""
        for layout in self.tables.values():
            d = layout.d
            if d.sheet != sheet or not _overlaps(node, d):
                continue
            if node.is_cell and not node.span:
                column = layout.columns[node.c1 - d.c1]
                if self.row_table is layout and node.r1 == self.row_number:
                    self.deps.add(column.slot)
                    item = f"v[{column.slot}][i]"
                else:
                    self.note_whole_read((column.slot,))
                    item = f"tcell(v[{column.slot}], {node.r1 - d.data_r1})"
                return f"ref1({item})" if as_ref else item
            label = f"{get_column_letter(node.c1)}{node.r1}:{get_column_letter(node.c2)}{node.r2}"
            if node.c1 < d.c1 or node.c2 > d.c2:
                raise Unsupported(
                    f"la plage {label} déborde des colonnes du tableau {d.name} sur ses lignes "
                    f"de données, dont le nombre varie : limitez-la aux colonnes du tableau "
                    f"ou écrivez {d.name}[Colonne]"
                )
            if node.r1 > d.data_r1 or node.r2 < d.data_r2:
                raise Unsupported(
                    f"la plage {label} ne couvre qu'une partie des lignes du tableau {d.name}, "
                    f"dont le nombre varie : couvrez toutes ses lignes de données ou écrivez "
                    f"{d.name}[Colonne]"
                )
            columns = layout.columns[node.c1 - d.c1 : node.c2 - d.c1 + 1]
            slots = tuple(c.slot for c in columns)
            self.note_whole_read(slots)
            if node.r1 == d.data_r1 and node.r2 == d.data_r2:
                return f"tcol(v[{slots[0]}])" if len(slots) == 1 else f"tcols(v, {slots!r})"
            max_row = self.book.bounds.get(sheet, (0, 0))[0]
            above = self.cells_ids(sheet, node.r1, d.data_r1 - 1, node.c1, node.c2)
            below = self.cells_ids(sheet, d.data_r2 + 1, min(node.r2, max_row), node.c1, node.c2)
            return f"tspan(v, {above!r}, {slots!r}, {below!r}, {len(slots)})"
        return None

    def cells_ids(self, sheet: str, r1: int, r2: int, c1: int, c2: int) -> tuple:
        ids = []
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                cid = self.ids.get((sheet, r, c), 0)
                if cid:
                    self.deps.add(cid)
                ids.append(cid)
        return tuple(ids)


def _overlaps(node: p.Ref, d: TableDef) -> bool:
    return not (node.c2 < d.c1 or node.c1 > d.c2 or node.r2 < d.data_r1 or node.r1 > d.data_r2)
