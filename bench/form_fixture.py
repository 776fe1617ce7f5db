"""The ER-Sociaux-sized workbook (9,804 fields, 3,713 formulas) the form benchmarks share.

Built by the fixtures generator into var/bench/ and reused until the generator changes;
compiled artifact beside it. Its five multivalued lists (Excel Tables) start with no row: the
engine's input and computed names are the single cells (``form.input_names``), a list's rows
go through ``form.evaluate({TABLE: rows})``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.form_workbooks import form_workbook_build  # noqa: E402
from forms_cms.engine import workbook_compile  # noqa: E402

CACHE = ROOT / "var" / "bench"
WORKBOOK = CACHE / "er_sociaux.xlsx"
ARTIFACT = CACHE / "er_sociaux.form"


GENERATOR = ROOT / "fixtures" / "form_workbooks"


def er_workbook() -> Path:
    changed = max(p.stat().st_mtime for p in GENERATOR.glob("*.py"))
    if not WORKBOOK.exists() or WORKBOOK.stat().st_mtime < changed:
        CACHE.mkdir(parents=True, exist_ok=True)
        form_workbook_build("er_sociaux", WORKBOOK)
    return WORKBOOK


def er_artifact() -> Path:
    workbook = er_workbook()
    if not ARTIFACT.exists() or ARTIFACT.stat().st_mtime < workbook.stat().st_mtime:
        ARTIFACT.write_bytes(workbook_compile(workbook).dumps())
    return ARTIFACT


def report(name: str, value: float, unit: str, target: float | None, **extra) -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, "target": target, **extra}))
