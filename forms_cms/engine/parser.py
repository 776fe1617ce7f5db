"""Excel formula text → syntax tree.

openpyxl's tokenizer splits the formula; a precedence-climbing parser builds the tree with
Excel's operator precedence (unary minus binds tighter than ``^``: ``-2^2`` is 4; ``^`` is
left-associative). References are decoded here; names are resolved by the compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.utils.cell import column_index_from_string

MAX_ROW = 1_048_576
MAX_COL = 16_384


class FormulaSyntaxError(ValueError):
    """The formula text cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class Str:
    value: str


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool


@dataclass(frozen=True, slots=True)
class Err:
    code: str


@dataclass(frozen=True, slots=True)
class Missing:
    """An omitted argument, as in ``IF(A1,,2)``."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A cell or range; ``sheet`` is ``None`` for the formula's own sheet.

    Whole columns (``A:A``) have ``r1=1, r2=MAX_ROW``; whole rows ``c1=1, c2=MAX_COL``."""

    sheet: str | None
    r1: int
    c1: int
    r2: int
    c2: int
    span: bool = False  # written as a range (``E4:E4``), not as one cell

    @property
    def is_cell(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2


@dataclass(frozen=True, slots=True)
class NameRef:
    name: str
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class StructRef:
    """An Excel Table's structured reference: ``Filiales[Capital]``, ``[@Capital]``,
    ``Filiales[[#Totals],[Capital]]``, ``Filiales[[Capital]:[Part]]``…

    ``table`` is ``None`` inside the table itself; ``area`` is ``data``, ``headers``,
    ``totals``, ``all`` or ``row`` (``@`` / ``#This Row``); ``first``/``last`` are column
    headers (``None``: every column)."""

    table: str | None
    area: str
    first: str | None
    last: str | None


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: object


@dataclass(frozen=True, slots=True)
class Percent:
    operand: object


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True, slots=True)
class Array:
    rows: tuple  # tuple of tuples of constant nodes


BINARY_PRECEDENCE = {
    "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
}  # fmt: skip
UNARY_PRECEDENCE = 6

_CELL = r"\$?([A-Za-z]{1,3})\$?(\d+)"
_CELL_RE = re.compile(rf"^{_CELL}$")
_RANGE_RE = re.compile(rf"^{_CELL}:{_CELL}$")
_COLS_RE = re.compile(r"^\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})$")
_ROWS_RE = re.compile(r"^\$?(\d+):\$?(\d+)$")


def split_sheet(text: str) -> tuple[str | None, str]:
    """``'My sheet'!A1`` → ("My sheet", "A1"); ``A1`` → (None, "A1")."""
    if "!" not in text:
        return None, text
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref


_STRUCTURED_RE = re.compile(r"^([A-Za-z_\\][\w.\\]*)?\[(.*)\]$", re.S)
_SPECIALS = {
    "#ALL": "all", "#DATA": "data", "#HEADERS": "headers", "#TOTALS": "totals",
    "#THIS ROW": "row",
}  # fmt: skip


def _bracket_items(inner: str) -> list[str]:
    """``[#Totals],[Capital]:[Part]`` → ["#Totals", ",", "Capital", ":", "Part"]; a quote
    escapes the next character inside brackets (``'#``, ``'[``, ``']``, ``''``)."""
    items, i, n = [], 0, len(inner)
    while i < n:
        ch = inner[i]
        if ch in ",:":
            items.append(ch)
            i += 1
        elif ch == " ":
            i += 1
        elif ch == "@":
            items.append("@")
            i += 1
        elif ch == "[":
            i += 1
            name = []
            while i < n and inner[i] != "]":
                if inner[i] == "'" and i + 1 < n:
                    i += 1
                name.append(inner[i])
                i += 1
            if i >= n:
                raise FormulaSyntaxError(f"crochet fermant attendu : [{inner}]")
            items.append("".join(name))
            i += 1
        else:
            raise FormulaSyntaxError(f"référence structurée illisible : [{inner}]")
    return items


def _unescape(name: str) -> str:
    out, i = [], 0
    while i < len(name):
        if name[i] == "'" and i + 1 < len(name):
            i += 1
        out.append(name[i])
        i += 1
    return "".join(out)


def parse_structured(text: str) -> StructRef:
    """Decode a structured reference (see :class:`StructRef`)."""
    m = _STRUCTURED_RE.match(text)
    if m is None:
        raise FormulaSyntaxError(f"référence structurée illisible : {text}")
    table, inner = m[1], m[2].strip()
    if inner.startswith("@"):
        rest = inner[1:].strip()
        if rest.startswith("["):
            parts = _bracket_items(rest)
            columns = [x for x in parts if x not in ",:"]
            if ":" in parts and len(columns) == 2:
                return StructRef(table, "row", columns[0], columns[1])
            if len(columns) != 1:
                raise FormulaSyntaxError(f"référence structurée illisible : {text}")
            return StructRef(table, "row", columns[0], columns[0])
        if not rest:
            return StructRef(table, "row", None, None)
        column = _unescape(rest)
        return StructRef(table, "row", column, column)
    if not inner.startswith("["):
        if not inner:
            return StructRef(table, "data", None, None)
        special = _SPECIALS.get(inner.upper())
        if special is not None:
            return StructRef(table, special, None, None)
        column = _unescape(inner)
        return StructRef(table, "data", column, column)
    parts = _bracket_items(inner)
    area, columns, ranged = None, [], False
    for part in parts:
        if part == ",":
            continue
        if part == ":":
            ranged = True
            continue
        special = _SPECIALS.get(part.upper())
        if special is not None:
            if area is not None and area != special:
                raise FormulaSyntaxError(
                    f"combinaison de zones non prise en charge dans {text} : utilisez une "
                    "seule zone (#Data, #Headers, #Totals, #All ou #This Row)"
                )
            area = special
        else:
            columns.append(part)
    if len(columns) > 2 or (len(columns) == 2 and not ranged):
        raise FormulaSyntaxError(f"référence structurée illisible : {text}")
    first = columns[0] if columns else None
    last = columns[-1] if columns else None
    return StructRef(table, area or "data", first, last)


def parse_reference(text: str):
    """Decode a reference operand into :class:`Ref`, :class:`NameRef`, :class:`StructRef`
    or :class:`Err`."""
    if text.startswith("[") and re.match(r"^\[\d+\]", text):
        raise FormulaSyntaxError(f"référence à un classeur externe : {text}")
    if text.endswith("]") and "[" in text and "!" not in text:
        return parse_structured(text)
    if text.startswith("["):
        raise FormulaSyntaxError(f"référence à un classeur externe : {text}")
    sheet, ref = split_sheet(text)
    if ":" in ref and "!" in ref:
        raise FormulaSyntaxError(f"référence 3D non prise en charge : {text}")
    if ref.upper() == "#REF!":
        return Err("#REF!")
    if m := _CELL_RE.match(ref):
        col, row = column_index_from_string(m[1].upper()), int(m[2])
        if col <= MAX_COL and 1 <= row <= MAX_ROW:
            return Ref(sheet, row, col, row, col)
    if m := _RANGE_RE.match(ref):
        c1, r1 = column_index_from_string(m[1].upper()), int(m[2])
        c2, r2 = column_index_from_string(m[3].upper()), int(m[4])
        return Ref(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2), True)
    if m := _COLS_RE.match(ref):
        c1, c2 = (column_index_from_string(x.upper()) for x in (m[1], m[2]))
        return Ref(sheet, 1, min(c1, c2), MAX_ROW, max(c1, c2))
    if m := _ROWS_RE.match(ref):
        r1, r2 = int(m[1]), int(m[2])
        return Ref(sheet, min(r1, r2), 1, max(r1, r2), MAX_COL)
    if re.match(r"^[A-Za-z_\\][\w.\\]*$", ref):
        return NameRef(ref, sheet)
    raise FormulaSyntaxError(f"référence illisible : {text}")


def parse(formula: str):
    """Parse ``=…`` formula text into a syntax tree."""
    text = formula if formula.startswith("=") else "=" + formula
    try:
        tokens = [t for t in Tokenizer(text).items if t.type != Token.WSPACE]
    except TokenizerError as exc:
        raise FormulaSyntaxError(str(exc)) from exc
    parser = _Parser(tokens)
    node = parser.expression(0)
    if parser.pos != len(tokens):
        tok = tokens[parser.pos]
        raise FormulaSyntaxError(f"élément inattendu « {tok.value} »")
    return node


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FormulaSyntaxError("formule incomplète")
        self.pos += 1
        return tok

    def expression(self, min_prec: int):
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.type == Token.OP_POST:  # percent
                self.pos += 1
                left = Percent(left)
                continue
            if tok.type != Token.OP_IN:
                return left
            op = tok.value
            if op == ":" or op == ",":
                raise FormulaSyntaxError(f"opérateur de plage « {op} » non pris en charge ici")
            prec = BINARY_PRECEDENCE.get(op)
            if prec is None:
                raise FormulaSyntaxError(f"opérateur inconnu « {op} »")
            if prec < min_prec:
                return left
            self.pos += 1
            right = self.expression(prec + 1)
            left = Binary(op, left, right)

    def unary(self):
        tok = self.peek()
        if tok is not None and tok.type == Token.OP_PRE:
            self.pos += 1
            operand = self.expression(UNARY_PRECEDENCE)
            return operand if tok.value == "+" else Unary("-", operand)
        return self.primary()

    def primary(self):
        tok = self.take()
        if tok.type == Token.OPERAND:
            return self.operand(tok)
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            return self.call(tok.value[:-1])
        if tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            node = self.expression(0)
            close = self.take()
            if close.type != Token.PAREN or close.subtype != Token.CLOSE:
                raise FormulaSyntaxError("parenthèse fermante attendue")
            return node
        if tok.type == Token.ARRAY and tok.subtype == Token.OPEN:
            return self.array()
        raise FormulaSyntaxError(f"élément inattendu « {tok.value} »")

    def operand(self, tok: Token):
        if tok.subtype == Token.NUMBER:
            value = float(tok.value)
            return Num(int(value) if value.is_integer() and abs(value) < 2**53 else value)
        if tok.subtype == Token.TEXT:
            return Str(tok.value[1:-1].replace('""', '"'))
        if tok.subtype == Token.LOGICAL:
            return Bool(tok.value.upper() == "TRUE")
        if tok.subtype == Token.ERROR:
            return Err(tok.value.upper())
        return parse_reference(tok.value)

    def call(self, name: str):
        args = []
        tok = self.peek()
        if tok is not None and tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
            self.pos += 1
            return Call(name.upper(), ())
        while True:
            tok = self.peek()
            if tok is None:
                raise FormulaSyntaxError(f"parenthèse fermante attendue après {name}(")
            if tok.type == Token.SEP or (tok.type == Token.FUNC and tok.subtype == Token.CLOSE):
                args.append(Missing())
            else:
                args.append(self.expression(0))
            tok = self.take()
            if tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
                return Call(name.upper(), tuple(args))
            if tok.type != Token.SEP or tok.subtype != Token.ARG:
                raise FormulaSyntaxError(
                    f"séparateur attendu dans {name}(), trouvé « {tok.value} »"
                )

    def array(self):
        rows, row = [], []
        while True:
            tok = self.take()
            if tok.type == Token.ARRAY and tok.subtype == Token.CLOSE:
                rows.append(tuple(row))
                break
            if tok.type == Token.SEP:
                if tok.subtype == Token.ROW:
                    rows.append(tuple(row))
                    row = []
                continue
            if tok.type == Token.OP_PRE and tok.value == "-":
                nxt = self.take()
                row.append(Num(-float(nxt.value)))
                continue
            if tok.type != Token.OPERAND:
                raise FormulaSyntaxError("tableau constant illisible")
            row.append(self.operand(tok))
        if len({len(r) for r in rows}) != 1:
            raise FormulaSyntaxError("tableau constant irrégulier")
        return Array(tuple(rows))
