"""The ER-Sociaux-sized workbook (9,804 fields, 3,713 formulas) the form benchmarks share.

Built once by the fixtures generator into var/bench/ and reused; compiled artifact beside it.
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


def er_workbook() -> Path:
    if not WORKBOOK.exists():
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
