"""Command line, usable without the web application.

python -m forms_cms.engine evaluate BOOK.xlsx [--set NAME=VALUE ...] [--rows TABLE=ROWS.json ...]
                                   [--json]

``ROWS.json`` is a list of objects {column field name: value} replacing the table's rows. The
output gives every scalar field by name and each table under its name as a list of row
objects with every column (input and calculated).
python -m forms_cms.engine compile BOOK.xlsx [--out FORM.bin]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from forms_cms.engine import (
    CompiledForm,
    CompileError,
    NotAnInput,
    TableFull,
    UnknownName,
    workbook_compile,
)
from forms_cms.engine.values import XLError, text_to_number


def parse_value(text: str):
    """A --set value read as Excel reads what is typed in a cell: empty, TRUE/FALSE, a number
    ("1,000.5", "(100)", "50%"), a date or time (→ serial: "2024-01-05", "31/12/2024 10:30"),
    else the text itself."""
    if text == "":
        return None
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    number = text_to_number(text)
    return text if number.__class__ is XLError else number


def _jsonable(value):
    if value.__class__ is XLError:
        return value.code
    if value.__class__ is list:
        return [{k: _jsonable(x) for k, x in row.items()} for row in value]
    return value


def _rows(assignment: str, form: CompiledForm):
    """``TABLE=ROWS.json`` → (table name, rows) or an error message."""
    name, sep, path = assignment.partition("=")
    if not sep:
        return f"--rows attend TABLEAU=LIGNES.json, reçu « {assignment} »"
    if form.table(name.strip()) is None:
        known = ", ".join(form.tables) or "aucun"
        return f"Tableau inconnu dans ce classeur : {name.strip()} (tableaux : {known})"
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path} : fichier JSON illisible ({exc})"
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return f"{path} : une liste d'objets {{colonne: valeur}} est attendue"
    converted = [
        {k: parse_value(x) if isinstance(x, str) else x for k, x in row.items()} for row in rows
    ]
    return name.strip(), converted


def _compile(path: Path) -> CompiledForm:
    try:
        return workbook_compile(path)
    except CompileError as exc:
        print(f"Le classeur ne peut pas être compilé :\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def evaluate(args) -> int:
    form = _compile(args.book)
    inputs = {}
    for assignment in args.set or []:
        name, sep, value = assignment.partition("=")
        if not sep:
            print(f"--set attend NOM=VALEUR, reçu « {assignment} »", file=sys.stderr)
            return 2
        inputs[name.strip()] = parse_value(value)
    for assignment in args.rows or []:
        parsed = _rows(assignment, form)
        if isinstance(parsed, str):
            print(parsed, file=sys.stderr)
            return 2
        inputs[parsed[0]] = parsed[1]
    v = form.evaluate()
    try:
        form.set_inputs(v, inputs)
    except TableFull as exc:
        print(f"Le tableau {exc.table} compte au plus {exc.cap} lignes", file=sys.stderr)
        return 2
    except UnknownName as exc:
        print(f"Nom inconnu dans ce classeur : {exc.args[0]}", file=sys.stderr)
        return 2
    except NotAnInput as exc:
        message = f"{exc.args[0]} est un champ calculé : sa valeur vient de sa formule"
        print(message, file=sys.stderr)
        return 2
    values = {name: _jsonable(value) for name, value in form.values_by_name(v).items()}
    if args.json:
        json.dump(values, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    else:
        for name in sorted(values):
            print(f"{name}\t{values[name]}")
    return 0


def compile_command(args) -> int:
    started = time.perf_counter()
    form = _compile(args.book)
    compiled = time.perf_counter()
    data = form.dumps()
    dumped = time.perf_counter()
    loaded = CompiledForm.loads(data)
    load_s = time.perf_counter() - dumped
    v = loaded.evaluate()
    t0 = time.perf_counter()
    loaded.recalculate(v)
    full_s = time.perf_counter() - t0
    if args.out:
        args.out.write_bytes(data)
    stats = {
        "names": len(form.names),
        "inputs": len(form.input_names),
        "computed": len(form.computed_names),
        "formulas": len(form.order),
        "cells": len(form.cells) - 1,
        "read_s": round(form.stats["read_s"], 4),
        "compile_s": round(compiled - started - form.stats["read_s"], 4),
        "artifact_bytes": len(data),
        "load_ms": round(load_s * 1000, 2),
        "full_recalculation_ms": round(full_s * 1000, 3),
    }
    for key, value in stats.items():
        print(f"{key}\t{value}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forms_cms.engine")
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("evaluate", help="évalue toutes les cellules nommées")
    ev.add_argument("book", type=Path)
    ev.add_argument("--set", action="append", metavar="NOM=VALEUR")
    ev.add_argument("--rows", action="append", metavar="TABLEAU=LIGNES.json")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(run=evaluate)
    co = commands.add_parser("compile", help="compile le classeur et affiche comptes et durées")
    co.add_argument("book", type=Path)
    co.add_argument("--out", type=Path, help="écrit l'artefact compilé dans ce fichier")
    co.set_defaults(run=compile_command)
    args = parser.parse_args(argv)
    if not args.book.is_file():
        print(f"Fichier introuvable : {args.book}", file=sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
