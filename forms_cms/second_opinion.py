"""A second opinion on a form version: the `formulas` package recalculates the workbook and
every formula cell is compared with our engine.

Pure (no Django): ``workbook_second_opinion(content)`` takes the workbook's bytes and returns an
:class:`Opinion`. `formulas` loads the workbook once (about a minute for an ER-sized one: a
background job's work, never a request's) and calculates it on the workbook's own inputs, then
on ``RANDOM_SETS`` sets of random numbers put in the numeric named input cells (fixed seed, so
that two runs on one workbook say the same). Our engine evaluates the same inputs.

Values are compared as Excel values: numbers to a relative 1e-9, text exactly, errors by code,
an empty cell equal to 0 or "" (as ``forms_cms.engine.parity.same_value``, on either side).
Cells whose formula uses an Excel Table's structured references (``Table[Column]``) are counted
apart ("non vérifiées"): `formulas` cannot even parse them. Its copy of the workbook has them
replaced by constants, given our engine's values in each calculation, so that the rest of the
workbook (A1 ranges over a table's rows, totals below it) is still compared.

Cells whose formula uses a construct in ``KNOWN_SHORTCOMINGS`` are listed as « écart connu de
formulas » when they differ, and not counted as disagreements.
"""

from __future__ import annotations

import math
import random
import re
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter

from forms_cms.engine import Arr, XLError, book_read, workbook_compile

RANDOM_SETS = 3
SEED = 20241115
REL_TOL = 1e-9
# the workbook's file name as `formulas` sees it (its cell ids carry it: '[support.xlsx]SHEET'!A1)
BOOK_NAME = "support.xlsx"
WORKBOOK_SET = "valeurs du classeur"

# What `formulas` (1.3.4) is known to compute differently from Excel, found by running it on our
# workbooks and on every function the engine supports: (pattern on the formula text, why). A
# differing cell whose formula matches is shown as « écart connu de formulas », not counted as a
# disagreement (the cells reading it still are: a real error of ours does not hide behind it).
KNOWN_SHORTCOMINGS: list[tuple[str, str]] = [
    (
        r"\b(ROUND|ROUNDUP|ROUNDDOWN|MROUND)\(",
        "formulas arrondit la valeur binaire du nombre, Excel sa valeur décimale affichée "
        "(ARRONDI(1,005;2) : 1 pour formulas, 1,01 pour Excel)",
    ),
    (r"\b(QUOTIENT|SUBTOTAL)\(", "fonction absente de formulas (#NAME?)"),
    (r"\bTRIM\(", "formulas ne réduit pas les suites d'espaces intérieures à une seule"),
    (
        r"\b(VALUE|DATEVALUE)\(",
        "formulas lit certains textes comme des dates (« 12,5 » devient le 12 mai)",
    ),
    (
        r"\bYEARFRAC\(",
        "base 1 : formulas prend une année moyenne là où Excel compte 366 jours si la période "
        "contient un 29 février",
    ),
    (r"\b(HOUR|MINUTE|SECOND)\(", "formulas n'arrondit pas l'heure à la seconde comme Excel"),
    (r"\b(NOW|TODAY)\(", "date et heure lues à des instants différents par les deux moteurs"),
]
_KNOWN = [(re.compile(pattern, re.IGNORECASE), why) for pattern, why in KNOWN_SHORTCOMINGS]


@dataclass
class Disagreement:
    cell: str  # "Bilan!B5"
    name: str  # the field's defined name, "" for an unnamed cell
    formula: str
    ours: str  # the values as displayed (numbers with repr precision, errors by code)
    theirs: str
    input_set: str
    reason: str = ""  # the known shortcoming, for known differences


@dataclass
class Opinion:
    cells: int = 0  # formula cells compared (on every input set)
    input_sets: int = 0
    unchecked: int = 0  # structured references: `formulas` does not read Excel Tables
    disagreements: list[Disagreement] = field(default_factory=list)
    known: list[Disagreement] = field(default_factory=list)
    duration_s: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def known_shortcoming(formula: str) -> str:
    """Why `formulas` is known to compute ``formula`` differently, or ""."""
    for pattern, why in _KNOWN:
        if pattern.search(formula):
            return why
    return ""


def same_value(ours, theirs) -> bool:
    """Equal as Excel values; an empty value equals 0 and "" on either side."""
    if theirs is None:
        return ours in (None, 0, "")
    if ours is None:
        return theirs in (0, "")
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(theirs, int | float):
        if not isinstance(ours, int | float):
            return False
        return math.isclose(ours, theirs, rel_tol=REL_TOL, abs_tol=1e-12)
    if theirs.__class__ is XLError or ours.__class__ is XLError:
        return ours is theirs
    return ours == theirs


def shown(value) -> str:
    if value is None:
        return "(vide)"
    if value.__class__ is XLError:
        return value.code
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def workbook_second_opinion(
    content: bytes, *, random_sets: int = RANDOM_SETS, seed: int = SEED, engine_form=None
) -> Opinion:
    """Recalculate the workbook with `formulas` and compare every formula cell with our
    engine (``engine_form``: an already compiled form of this workbook, to save compiling)."""
    import formulas  # heavy (numpy, schedula): loaded by the job only

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / BOOK_NAME
        path.write_bytes(content)
        book = book_read(path)
        form = engine_form if engine_form is not None else workbook_compile(path)
        structured = [a for a, formula in book.formulas.items() if "[" in formula]
        if structured:
            path = _without_structured_references(path, structured)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = formulas.ExcelModel().loads(str(path)).finish()
    opinion = Opinion()
    names_of: dict[int, str] = {}
    for name, cid in form.names.items():
        names_of.setdefault(cid, name)
    formula_ids = form.formula_ids
    checked: list[tuple[int, str, str, str]] = []  # (cid, label, node id, formula)
    for address, formula in book.formulas.items():
        if "[" in formula:
            opinion.unchecked += 1
            continue
        cid = form.ids_by_address.get(address)
        if cid is None or cid not in formula_ids:
            continue
        sheet, row, col = address
        label = f"{sheet}!{get_column_letter(col)}{row}"
        checked.append((cid, label, _node(sheet, row, col), formula))
    input_sets = [(WORKBOOK_SET, {})] + _random_sets(form, random_sets, seed)
    differing: set[int] = set()
    for set_label, inputs in input_sets:
        v = form.evaluate(inputs)
        given = {_node(*form.cell_of(n)): value for n, value in inputs.items()}
        for address, value in _values_at(form, v, structured).items():
            given[_node(*address)] = _to_theirs(value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            solution = model.calculate(inputs=given)
        for cid, label, node, formula in checked:
            ours = v[cid]
            if ours.__class__ is Arr or cid in differing:
                continue
            theirs = _theirs(solution.get(node))
            if theirs is _SKIP or same_value(ours, theirs):
                continue
            differing.add(cid)
            reason = known_shortcoming(formula)
            line = Disagreement(
                cell=label,
                name=names_of.get(cid, ""),
                formula=formula if formula.startswith("=") else f"={formula}",
                ours=shown(ours),
                theirs=shown(theirs),
                input_set=set_label,
                reason=reason,
            )
            (opinion.known if reason else opinion.disagreements).append(line)
    opinion.cells = len(checked)
    opinion.input_sets = len(input_sets)
    opinion.duration_s = round(time.perf_counter() - started, 1)
    return opinion


def _node(sheet: str, row: int, col: int) -> str:
    """A cell's id in `formulas`' model: '[book.xlsx]SHEET'!B5 (sheet names upper-cased)."""
    quoted = sheet.upper().replace("'", "''")
    return f"'[{BOOK_NAME}]{quoted}'!{get_column_letter(col)}{row}"


def _without_structured_references(path: Path, addresses: list) -> Path:
    """A copy of the workbook (same file name: `formulas` names its cells after it) where the
    formulas using structured references are constants (0: a node `formulas` can be given)."""
    wb = load_workbook(path)
    for sheet, row, col in addresses:
        wb[sheet].cell(row, col).value = 0
    copy = path.parent / "copie" / BOOK_NAME
    copy.parent.mkdir()
    wb.save(copy)
    return copy


def _values_at(form, v: list, addresses: list) -> dict:
    """Our engine's values of those cells: scalar cells by id, a table's calculated columns
    row by row (the workbook's own rows: the input sets leave tables as they are)."""
    ours = {}
    for table in form.tables.values():
        for column in table.computed_columns:
            for i, value in enumerate(v[column.slot]):
                ours[(table.sheet, table.first_row + i, column.col)] = value
    for address in addresses:
        cid = form.ids_by_address.get(address)
        if cid is not None and v[cid].__class__ is not list:
            ours[address] = v[cid]
    return {a: ours[a] for a in addresses if a in ours and ours[a].__class__ is not Arr}


def _to_theirs(value):
    """An engine value as `formulas` takes it as an input."""
    from formulas.functions import Error
    from schedula import EMPTY

    if value is None:
        return EMPTY
    if value.__class__ is XLError:
        return Error.errors.get(value.code, Error.errors["#VALUE!"])
    return value


def _random_sets(form, count: int, seed: int) -> list[tuple[str, dict[str, float]]]:
    """Random numbers for the named input cells holding a number in the workbook: integers
    stay integers (counts, years), others get two decimals, within ten times their magnitude."""
    numeric = {}
    v = form.evaluate()
    for name in sorted(form.input_names):
        value = v[form.names[name]]
        if isinstance(value, int | float) and not isinstance(value, bool):
            numeric[name] = value
    rng = random.Random(seed)  # noqa: S311 - test values, not secrets
    sets = []
    for i in range(count):
        inputs = {}
        for name, value in numeric.items():
            bound = max(10 * abs(value), 1000)
            if float(value).is_integer():
                inputs[name] = float(rng.randint(0, int(bound)))
            else:
                inputs[name] = round(rng.uniform(0, bound), 2)
        sets.append((f"jeu aléatoire {i + 1}", inputs))
    return sets


_SKIP = object()


def _theirs(ranges):
    """A `formulas` cell value in the engine's representation (_SKIP for ranges/arrays)."""
    from formulas.tokens.operand import XlError
    from schedula import EMPTY

    if ranges is None:
        return _SKIP
    value = getattr(ranges, "value", ranges)
    shape = getattr(value, "shape", None)
    if shape is not None:
        if shape != (1, 1):
            return _SKIP
        value = value[0, 0]
    if value is EMPTY:
        return None
    if isinstance(value, XlError):
        return XLError.get(str(value))
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
