"""python -m forms_cms.engine, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

from .helpers import workbook_bytes
from .test_compile import BALANCE, NAMES


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "forms_cms.engine", *args], capture_output=True, text=True
    )


def test_evaluate_prints_every_name_as_json(tmp_path):
    book = tmp_path / "bilan.xlsx"
    book.write_bytes(workbook_bytes(BALANCE, NAMES))
    out = run("evaluate", str(book), "--json")
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout)
    assert set(values) == set(NAMES)
    assert values["TOTAL_ACTIF"] == 1250.5
    out = run("evaluate", str(book), "--set", "ACT_IMMO=2000", "--set", "PAS_CAPITAL=", "--json")
    values = json.loads(out.stdout)
    assert values["TOTAL_ACTIF"] == 2250.5
    assert values["PAS_CAPITAL"] is None
    assert values["PAS_RESULTAT"] == 2250.5


def test_evaluate_refuses_computed_and_unknown_names(tmp_path):
    book = tmp_path / "bilan.xlsx"
    book.write_bytes(workbook_bytes(BALANCE, NAMES))
    out = run("evaluate", str(book), "--set", "TOTAL_ACTIF=1")
    assert out.returncode == 2
    assert "TOTAL_ACTIF est un champ calculé" in out.stderr
    out = run("evaluate", str(book), "--set", "NOPE=1")
    assert "Nom inconnu" in out.stderr


def test_compile_prints_counts_and_timings(tmp_path):
    book = tmp_path / "bilan.xlsx"
    book.write_bytes(workbook_bytes(BALANCE, NAMES))
    out = run("compile", str(book), "--out", str(tmp_path / "f.bin"))
    assert out.returncode == 0, out.stderr
    stats = dict(line.split("\t") for line in out.stdout.strip().splitlines())
    assert stats["names"] == "8"
    assert stats["formulas"] == "5"
    assert float(stats["load_ms"]) > 0
    assert (tmp_path / "f.bin").stat().st_size == int(stats["artifact_bytes"])


def test_circular_workbook_fails_with_message(tmp_path):
    book = tmp_path / "boucle.xlsx"
    book.write_bytes(workbook_bytes({"S": {"A1": "=A2", "A2": "=A1"}}))
    out = run("compile", str(book))
    assert out.returncode == 2
    assert "référence circulaire" in out.stderr
