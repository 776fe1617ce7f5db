"""Excel parity over the public corpus (../shared/corpus/excel), when it is present.

Each workbook is evaluated with its saved inputs and every formula cell compared with the value
Excel saved (relative 1e-9). Cells using functions the platform does not support keep their
saved value and are not counted. Circular workbooks must be rejected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forms_cms.engine import CompileError, workbook_compile
from forms_cms.engine.parity import workbook_parity

from .corpus_known_differences import KNOWN_DIFFERENCES


def _corpus() -> Path:
    """HARMONIA_EXCEL_CORPUS, else shared/corpus/excel beside the checkout or an ancestor."""
    if os.environ.get("HARMONIA_EXCEL_CORPUS"):
        return Path(os.environ["HARMONIA_EXCEL_CORPUS"])
    root = Path(__file__).resolve().parents[3]
    for folder in root.parents:
        candidate = folder / "shared" / "corpus" / "excel"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "corpus" / "excel"


CORPUS = _corpus()
WORKBOOKS = sorted(p for p in CORPUS.glob("*.xls*")) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not WORKBOOKS, reason=f"corpus absent ({CORPUS})")


@pytest.mark.parametrize("path", [p for p in WORKBOOKS if "circular" in p.name], ids=str)
def test_circular_workbooks_are_rejected(path):
    with pytest.raises(CompileError, match="référence circulaire"):
        workbook_compile(path)


@pytest.mark.parametrize(
    "path", [p for p in WORKBOOKS if "circular" not in p.name], ids=lambda p: p.name
)
def test_parity(path):
    report = workbook_parity(path)
    differences = {cell: (got, saved) for cell, got, saved in report.mismatches}
    known = KNOWN_DIFFERENCES.get(path.name, {})
    unexpected = {cell: diff for cell, diff in differences.items() if cell not in known}
    assert not unexpected, f"{len(unexpected)} new differences: {list(unexpected.items())[:10]}"
    fixed = set(known) - set(differences)
    assert not fixed, f"now agreeing, remove from corpus_known_differences.py: {sorted(fixed)}"


def test_corpus_agreement_figure():
    compared = matching = 0
    for path in WORKBOOKS:
        if "circular" in path.name:
            continue
        report = workbook_parity(path)
        compared += report.compared
        matching += report.matching
    print(f"corpus parity: {matching}/{compared} cells ({matching / compared:.2%})")
    assert compared > 9000
