"""Workbook → compiled form: every formula parsed once and translated into Python code.

Each formula cell becomes a small function ``f<id>(v)`` that stores its value into the value
list ``v`` (one slot per cell). The functions are ordered by dependencies, so a full
recalculation is one pass, and the dependents of an input are known, so changing one input
re-runs only the formulas downstream of it. The generated module is compiled by Python once and
stored as a code object (``marshal``) in the artifact: loading it needs no parsing at all.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter

from forms_cms.engine import parser as p
from forms_cms.engine.functions import FUNCTIONS, LAZY_FUNCTIONS
from forms_cms.engine.reader import Address, Book
from forms_cms.engine.table_compile import Layout, TablesMixin
from forms_cms.engine.table_compile import Unsupported as _Unsupported
from forms_cms.engine.values import ERROR_CODES

OPERATORS = {
    "+": "op_add", "-": "op_sub", "*": "op_mul", "/": "op_div", "^": "op_pow", "&": "op_cat",
    "=": "op_eq", "<>": "op_ne", "<": "op_lt", "<=": "op_le", ">": "op_gt", ">=": "op_ge",
}  # fmt: skip
ERROR_CONSTANTS = {
    "#NULL!": "E_NULL", "#DIV/0!": "E_DIV0", "#VALUE!": "E_VALUE", "#REF!": "E_REF",
    "#NAME?": "E_NAME", "#NUM!": "E_NUM", "#N/A": "E_NA",
}  # fmt: skip
MAX_NAME_DEPTH = 20
_INLINE_ARITHMETIC = frozenset("+-*")


def address_label(address: Address) -> str:
    sheet, row, col = address
    return f"{sheet}!{get_column_letter(col)}{row}"


@dataclass
class Problem:
    """Why a formula cannot be compiled, with where it is (for the gestionnaire)."""

    sheet: str
    cell: str
    name: str | None
    reason: str
    function: str | None = None

    def message(self) -> str:
        where = f"feuille « {self.sheet} », cellule {self.cell}"
        if self.name:
            where += f" (nom {self.name})"
        return f"{where} : {self.reason}"


class CompileError(Exception):
    """The workbook cannot be compiled; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(pr.message() for pr in problems[:20])
        more = f"\n… et {len(problems) - 20} autres" if len(problems) > 20 else ""
        super().__init__(shown + more)


@dataclass
class CompileResult:
    source: str
    cell_ids: dict[Address, int]
    names: dict[str, int]  # field name → cell id (single-cell names only)
    name_cells: dict[str, Address]
    range_names: dict[str, str]  # names over several cells → definition (not fields)
    order: list[int]  # formula cell ids in evaluation order
    dependents: dict[int, list[int]]  # cell id → formula ids that read it directly
    constants: dict[int, object]
    stats: dict[str, float] = field(default_factory=dict)
    skipped: dict[Address, str] = field(default_factory=dict)  # lenient mode only
    tables: list[dict] = field(default_factory=list)  # TableInfo.as_dict()


class Compiler(TablesMixin):
    """Translate a :class:`Book`.

    ``fallback`` (parity measurements only) maps cells to saved values: a cell that cannot be
    compiled becomes a constant holding its saved value instead of failing the compilation."""

    def __init__(self, book: Book, fallback: dict[Address, object] | None = None):
        self.book = book
        self.fallback = fallback
        self.skipped: dict[Address, str] = {}
        self.sheet_set = set(book.sheets)
        self.sheet_upper = {s.upper(): s for s in book.sheets}
        self.ids: dict[Address, int] = {}
        self.problems: list[Problem] = []
        self.cell_names: dict[Address, str] = {}
        self.tables: dict[str, Layout] = {}  # TABLE NAME in upper case → layout
        self.table_cells: dict[Address, Layout] = {}  # data-area cell → its table
        self.row_table: Layout | None = None  # compiling a calculated column of this table
        self.whole_reads = False  # the column being compiled reads a whole table column
        self.row_number = 0  # the workbook row of the calculated column's formula

    # ids -------------------------------------------------------------------------------
    def cell_id(self, address: Address) -> int:
        cid = self.ids.get(address)
        if cid is None:
            cid = self.ids[address] = len(self.ids) + 1  # slot 0 is the permanent blank
        return cid

    def sheet_name(self, sheet: str | None, own: str) -> str | None:
        if sheet is None:
            return own
        if sheet in self.sheet_set:
            return sheet
        return self.sheet_upper.get(sheet.upper())

    # names -----------------------------------------------------------------------------
    def name_definition(self, name: str, sheet: str | None, own: str):
        key = name.upper()
        if sheet is not None:
            found = self.book.names.get((self.sheet_name(sheet, own), key))
        else:
            found = self.book.names.get((own, key)) or self.book.names.get((None, key))
        return found

    def name_tree(self, name: str, sheet: str | None, own: str):
        found = self.name_definition(name, sheet, own)
        if found is None:
            return None
        definition = found[1]
        try:
            return p.parse(definition)
        except p.FormulaSyntaxError as exc:
            raise _Unsupported(
                f"le nom {name} a une définition illisible ({definition}) : {exc}"
            ) from exc

    # code generation -------------------------------------------------------------------
    def compile(self) -> CompileResult:
        started = time.perf_counter()
        book = self.book
        for (scope, _key), (name, definition) in book.names.items():
            target = _single_cell_target(definition)
            sheet = target and self.sheet_name(target[0], scope or book.sheets[0])
            if sheet:
                self.cell_names.setdefault((sheet, target[1], target[2]), name)
        self.tables_prepare()
        for address in book.constants:
            if address not in self.table_cells:
                self.cell_id(address)
        for address in book.formulas:
            if address not in self.table_cells:
                self.cell_id(address)
        trees = {}
        covered = self.array_covered_cells()
        for address, text in book.formulas.items():
            if address in self.table_cells:
                continue  # a calculated column: compiled once per column below
            if address in book.array_formulas or address in covered:
                self.problem(
                    address,
                    "formule matricielle sur plusieurs cellules non prise en "
                    "charge : saisissez une formule par cellule",
                )
                continue
            try:
                trees[address] = p.parse(text)
            except p.FormulaSyntaxError as exc:
                self.problem(address, f"formule illisible ({text}) : {exc}")
        parsed = time.perf_counter()
        # names that designate one cell are fields: give them ids even when empty
        names: dict[str, int] = {}
        name_cells: dict[str, Address] = {}
        range_names: dict[str, str] = {}
        for (scope, _key), (name, definition) in sorted(book.names.items(), key=_name_order):
            target = _single_cell_target(definition)
            if target is None:
                range_names[name] = definition
                continue
            sheet = self.sheet_name(target[0], scope or book.sheets[0])
            if sheet is None:
                range_names[name] = definition
                continue
            address = (sheet, target[1], target[2])
            if address in self.table_cells or address in self.header_cells:
                if address not in self.column_names:
                    layout = self.table_cells.get(address) or self.header_cells[address]
                    self.problem(
                        address,
                        f"le nom {name} désigne une cellule du tableau {layout.d.name} : dans "
                        "un tableau, seule la première ligne de données porte des noms (un "
                        "par colonne) ; déplacez ce champ hors du tableau",
                    )
                continue
            if name in names:
                continue  # a sheet-scoped homonym of a workbook name: first one wins
            names[name] = self.cell_id(address)
            name_cells[name] = address
        # first pass over trees: every single-cell reference gets an id
        for address, tree in trees.items():
            self.collect_cells(tree, address[0], 0)
        lines = ["def _build(v):", "    pass"]
        deps: dict[int, set[int]] = {}
        bodies: dict[int, str] = {}
        for address, tree in trees.items():
            cid = self.ids[address]
            self.deps = set()
            self.temp = 0
            self.current = address
            try:
                expr = self.expr(tree, address[0], 0)
            except _Unsupported as exc:
                self.problem(address, exc.reason, exc.function)
                continue
            if _may_be_blank_or_array(tree):
                expr = f"top({expr}, {address[0]!r}, {address[1]}, {address[2]})"
            deps[cid] = self.deps
            bodies[cid] = expr
        row_bodies = self.calculated_columns_compile(deps, bodies)
        if self.problems:
            try:  # report loops among the formulas that did compile as well
                self.topological_order(deps)
            except CompileError as loops:
                self.problems.extend(loops.problems)
            raise CompileError(self.problems)
        order = self.topological_order(deps)
        # Excel's numbers are all floating point: so are the engine's
        constants = {
            self.ids[a]: _as_float(v)
            for a, v in book.constants.items()
            if a not in self.table_cells
        }
        for address in self.skipped:
            constants[self.ids[address]] = self.fallback.get(address)
        generated = time.perf_counter()
        for cid in order:
            if cid in row_bodies:
                lines.extend(self.calculated_column_source(cid, row_bodies[cid]))
            else:
                lines.append(f"def f{cid}(v):\n    v[{cid}] = {bodies[cid]}")
        lines.append("FORMULAS = [" + ", ".join(f"f{cid}" for cid in order) + "]")
        lines.append("ROWS = {" + ", ".join(f"{cid}: r{cid}" for cid in row_bodies) + "}")
        dependents: dict[int, list[int]] = defaultdict(list)
        for cid in order:
            for dep in deps[cid]:
                dependents[dep].append(cid)
        return CompileResult(
            source="\n".join(lines) + "\n",
            cell_ids=dict(self.ids),
            names=names,
            name_cells=name_cells,
            range_names=range_names,
            order=order,
            dependents=dict(dependents),
            constants=constants,
            tables=[self.table_info(layout, order).as_dict() for layout in self.tables.values()],
            stats={
                "parse_s": parsed - started,
                "generate_s": generated - parsed,
                "formulas": len(order),
                "cells": len(self.ids),
            },
            skipped=self.skipped,
        )

    def array_covered_cells(self) -> set[Address]:
        covered = set()
        for (sheet, _row, _col), ref in self.book.array_formulas.items():
            if ref == "TABLE":
                continue
            node = p.parse_reference(ref)
            for r in range(node.r1, node.r2 + 1):
                for c in range(node.c1, node.c2 + 1):
                    covered.add((sheet, r, c))
        return covered

    def problem(self, address: Address, reason: str, function: str | None = None):
        if self.fallback is not None:
            self.skipped[address] = function or reason
            return
        self.problems.append(
            Problem(
                sheet=address[0],
                cell=address_label(address).split("!")[-1],
                name=self.cell_names.get(address),
                reason=reason,
                function=function,
            )
        )

    def collect_cells(self, node, own: str, depth: int):
        if isinstance(node, p.Ref):
            sheet = self.sheet_name(node.sheet, own)
            if (
                sheet is not None
                and node.is_cell
                and (sheet, node.r1, node.c1) not in (self.table_cells)
            ):
                self.cell_id((sheet, node.r1, node.c1))
        elif isinstance(node, p.NameRef):
            if depth < MAX_NAME_DEPTH:
                try:
                    tree = self.name_tree(node.name, node.sheet, own)
                except _Unsupported:
                    return
                if tree is not None:
                    self.collect_cells(tree, own, depth + 1)
        elif isinstance(node, p.Unary | p.Percent):
            self.collect_cells(node.operand, own, depth)
        elif isinstance(node, p.Binary):
            self.collect_cells(node.left, own, depth)
            self.collect_cells(node.right, own, depth)
        elif isinstance(node, p.Call):
            for arg in node.args:
                self.collect_cells(arg, own, depth)

    def new_temp(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    def expr(self, node, own: str, depth: int, as_ref: bool = False) -> str:
        """Python expression for ``node``; ``as_ref`` wraps single cells as 1×1 ranges."""
        if isinstance(node, p.Num):
            return repr(float(node.value))
        if isinstance(node, p.Str):
            return repr(node.value)
        if isinstance(node, p.Bool):
            return "True" if node.value else "False"
        if isinstance(node, p.Err):
            if node.code not in ERROR_CODES:
                raise _Unsupported(f"valeur d'erreur inconnue {node.code}")
            return ERROR_CONSTANTS[node.code]
        if isinstance(node, p.Missing):
            return "None"
        if isinstance(node, p.Ref):
            return self.ref(node, own, as_ref)
        if isinstance(node, p.StructRef):
            return self.structured(node, as_ref)
        if isinstance(node, p.NameRef):
            if depth >= MAX_NAME_DEPTH:
                raise _Unsupported(f"le nom {node.name} se définit par lui-même")
            tree = self.name_tree(node.name, node.sheet, own)
            if tree is None:
                if node.name.upper() in self.tables:  # a table's name alone: its data rows
                    return self.structured(p.StructRef(node.name, "data", None, None), as_ref)
                return "E_NAME"
            return self.expr(tree, own, depth + 1, as_ref)
        if isinstance(node, p.Unary):
            return f"op_neg({self.expr(node.operand, own, depth)})"
        if isinstance(node, p.Percent):
            return f"op_pct({self.expr(node.operand, own, depth)})"
        if isinstance(node, p.Binary):
            left = self.expr(node.left, own, depth)
            right = self.expr(node.right, own, depth)
            if node.op in _INLINE_ARITHMETIC:
                # two floats (the usual case) are computed inline; anything else goes
                # through the operator, which applies Excel's coercions and errors
                a, b = self.new_temp(), self.new_temp()
                return (
                    f"({a} {node.op} {b} if (({a} := {left}).__class__ is float) & "
                    f"(({b} := {right}).__class__ is float) else {OPERATORS[node.op]}({a}, {b}))"
                )
            return f"{OPERATORS[node.op]}({left}, {right})"
        if isinstance(node, p.Call):
            code = self.call(node, own, depth)
            if self.row_table is not None and "[i]" not in code:
                return self.hoist(code)  # the same for every row: computed once per column
            return code
        if isinstance(node, p.Array):
            vals = [self.expr(item, own, depth) for row in node.rows for item in row]
            return f"array_const({len(node.rows)}, {len(node.rows[0])}, ({', '.join(vals)},))"
        raise _Unsupported(f"construction non prise en charge : {node!r}")

    def ref(self, node: p.Ref, own: str, as_ref: bool) -> str:
        sheet = self.sheet_name(node.sheet, own)
        if sheet is None:
            return "E_REF"
        if self.tables:
            mapped = self.table_range(node, sheet, as_ref)
            if mapped is not None:
                return mapped
        if node.is_cell:
            cid = self.cell_id((sheet, node.r1, node.c1))
            self.deps.add(cid)
            return f"ref1(v[{cid}])" if as_ref else f"v[{cid}]"
        max_row, max_col = self.book.bounds.get(sheet, (0, 0))
        r2 = max(node.r1, min(node.r2, max_row))
        c2 = max(node.c1, min(node.c2, max_col))
        rows, cols = r2 - node.r1 + 1, c2 - node.c1 + 1
        if rows * cols > 2_000_000:
            raise _Unsupported(f"plage trop grande ({rows} × {cols} cellules)")
        ids = []
        for r in range(node.r1, r2 + 1):
            for c in range(node.c1, c2 + 1):
                cid = self.ids.get((sheet, r, c), 0)
                if cid:
                    self.deps.add(cid)
                ids.append(cid)
        return f"rng(v, {tuple(ids)!r}, {rows}, {cols}, {sheet!r}, {node.r1}, {node.c1})"

    def call(self, node: p.Call, own: str, depth: int) -> str:
        name = node.name
        for prefix in ("_XLFN._XLWS.", "_XLFN.", "_XLWS."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        if (
            name == "SUM"
            and node.args
            and all(isinstance(a, p.Ref) for a in node.args)
            and not (self.tables and any(self.crosses_table(a, own) for a in node.args))
        ):
            return self.sum_of_references(node.args, own)
        lazy = LAZY_FUNCTIONS.get(name)
        if lazy is not None:
            return lazy(self, node.args, own, depth)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise _Unsupported(
                f"la fonction {name} n'est pas prise en charge par la plateforme ; "
                "remplacez-la par une fonction prise en charge (voir le guide « Préparer un "
                "support Excel »)",
                function=name,
            )
        if not spec.min_args <= len(node.args) <= spec.max_args:
            raise _Unsupported(f"nombre d'arguments incorrect pour {name}", function=name)
        args = [
            self.expr(arg, own, depth, as_ref=spec.refs and not isinstance(arg, p.Missing))
            for arg in node.args
        ]
        if not (spec.refs or spec.arrays) and self.current in self.book.array_cells:
            # an array formula ({=…}): scalar functions apply to each element of an array
            return f"lifted({', '.join([spec.py_name, *args])})"
        return f"{spec.py_name}({', '.join(args)})"

    def sum_of_references(self, refs, own: str) -> str:
        """SUM(A1:A9, C3…) reads the cells directly: no range object is built."""
        ids = []
        for ref in refs:
            sheet = self.sheet_name(ref.sheet, own)
            if sheet is None:
                return "E_REF"
            max_row, max_col = self.book.bounds.get(sheet, (0, 0))
            for r in range(ref.r1, min(ref.r2, max(max_row, ref.r1)) + 1):
                for c in range(ref.c1, min(ref.c2, max(max_col, ref.c1)) + 1):
                    cid = (
                        self.ids.get((sheet, r, c))
                        if not ref.is_cell
                        else self.cell_id((sheet, r, c))
                    )
                    if cid:
                        self.deps.add(cid)
                        ids.append(cid)
        return f"sum_cells(v, {tuple(ids)!r})"

    def topological_order(self, deps: dict[int, set[int]]) -> list[int]:
        formula_ids = set(deps)
        waiting = {cid: {d for d in ds if d in formula_ids} for cid, ds in deps.items()}
        readers: dict[int, list[int]] = defaultdict(list)
        for cid, ds in waiting.items():
            for d in ds:
                readers[d].append(cid)
        ready = sorted(cid for cid, ds in waiting.items() if not ds)
        order = []
        while ready:
            cid = ready.pop()
            order.append(cid)
            for reader in readers[cid]:
                pending = waiting[reader]
                pending.discard(cid)
                if not pending:
                    ready.append(reader)
        if len(order) != len(deps):
            self.report_cycle({cid for cid, ds in waiting.items() if ds}, waiting)
        return order

    def report_cycle(self, blocked: set[int], waiting: dict[int, set[int]]):
        by_id = {cid: address for address, cid in self.ids.items()}
        # walk from any blocked cell along blocked dependencies until a cell repeats
        start = min(blocked)
        path, seen = [start], {start: 0}
        while True:
            nxt = min(d for d in waiting[path[-1]] if d in blocked)
            if nxt in seen:
                cycle = path[seen[nxt] :]
                break
            seen[nxt] = len(path)
            path.append(nxt)
        chain = " → ".join(address_label(by_id[c]) for c in cycle + [cycle[0]])
        problems = [
            Problem(
                sheet=by_id[cid][0],
                cell=address_label(by_id[cid]).split("!")[-1],
                name=self.cell_names.get(by_id[cid]),
                reason=f"référence circulaire : {chain} ; supprimez la boucle",
            )
            for cid in cycle
        ]
        raise CompileError(problems)


# functions whose result is always a plain value (never a blank cell or a range)
_SCALAR_RESULTS = frozenset(
    [
        "SUM",
        "ROUND",
        "ROUNDUP",
        "ROUNDDOWN",
        "ABS",
        "INT",
        "MOD",
        "MIN",
        "MAX",
        "AVERAGE",
        "COUNT",
        "COUNTA",
        "COUNTIF",
        "COUNTIFS",
        "SUMIF",
        "SUMIFS",
        "SUMPRODUCT",
        "AND",
        "OR",
        "NOT",
        "ISBLANK",
        "ISNUMBER",
        "ISERROR",
        "ISTEXT",
        "CONCATENATE",
        "LEN",
        "YEAR",
        "MONTH",
        "DAY",
        "DATE",
        "EDATE",
        "EOMONTH",
    ]
)


def _may_be_blank_or_array(tree) -> bool:
    if isinstance(tree, p.Binary | p.Unary | p.Percent | p.Num | p.Str | p.Bool | p.Err):
        return False
    return not (isinstance(tree, p.Call) and tree.name in _SCALAR_RESULTS)


def _as_float(value):
    return float(value) if value.__class__ is int else value


def _name_order(item):
    (scope, key), _ = item
    return (scope is not None, key)


def _single_cell_target(definition: str):
    """(sheet, row, col) when a name's definition is one cell, else None."""
    try:
        node = p.parse_reference(definition.lstrip("="))
    except p.FormulaSyntaxError:
        return None
    if isinstance(node, p.Ref) and node.is_cell:
        return (node.sheet, node.r1, node.c1)
    return None


def book_compile(book: Book, fallback: dict[Address, object] | None = None) -> CompileResult:
    return Compiler(book, fallback).compile()


class ExpressionError(ValueError):
    """A rule's formula cannot be compiled; the message says why, for the gestionnaire."""


class _ExpressionCompiler(Compiler):
    """Formulas written over field names (controls, aggregates), not cell addresses."""

    def __init__(self, names: dict[str, int], tables=()):
        super().__init__(Book(sheets=[]))
        self.field_ids = {name.upper(): cid for name, cid in names.items()}
        self.current = ("", 0, 0)
        self.deps = set()
        self.temp = 0
        for info in tables:  # Table[Column] over the form's tables (header or field name)
            layout = Layout.from_info(info)
            self.tables[info.name.upper()] = layout

    def ref(self, node, own, as_ref):
        raise _Unsupported(
            "une règle désigne les champs par leur nom (ex. TOTAL_ACTIF), pas par une adresse "
            "de cellule"
        )

    def expr(self, node, own, depth, as_ref=False):
        if isinstance(node, p.NameRef):
            cid = self.field_ids.get(node.name.upper())
            if cid is None and node.name.upper() in self.tables:
                return self.structured(p.StructRef(node.name, "data", None, None), as_ref)
            if cid is None:
                raise _Unsupported(f"le champ {node.name} n'existe pas dans ce formulaire")
            self.deps.add(cid)
            return f"ref1(v[{cid}])" if as_ref else f"v[{cid}]"
        return super().expr(node, own, depth, as_ref)


def expression_compile(text: str, names: dict[str, int], tables=()) -> tuple[str, set[int]]:
    """Python expression source for a formula over field names (and ``tables``, the form's
    :class:`TableInfo` a formula may aggregate: ``SUM(Filiales[Capital])``), and the cells
    it reads."""
    try:
        tree = p.parse(text)
    except p.FormulaSyntaxError as exc:
        raise ExpressionError(f"formule illisible : {exc}") from exc
    compiler = _ExpressionCompiler(names, tables)
    try:
        source = compiler.expr(tree, "", 0)
    except _Unsupported as exc:
        raise ExpressionError(exc.reason) from exc
    return f"top({source})", compiler.deps
