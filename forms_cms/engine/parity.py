"""Compare the engine with the values Excel or LibreOffice saved in a workbook."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from forms_cms.engine import workbook_compile
from forms_cms.engine.compiler import address_label
from forms_cms.engine.reader import Address, cached_values
from forms_cms.engine.values import XLError

REL_TOL = 1e-9


def same_value(computed, saved) -> bool:
    """Equal as Excel values: numbers to a relative 1e-9, text exactly, errors by code."""
    if saved is None:
        return computed in (None, 0, "")
    if isinstance(saved, bool) or isinstance(computed, bool):
        if isinstance(computed, bool) and type(saved) is int:
            # LibreOffice saves booleans as the numbers 0 and 1 (t="n" with a boolean format)
            return int(computed) == saved
        return computed is saved or (type(computed) is type(saved) and computed == saved)
    if isinstance(saved, int | float):
        if not isinstance(computed, int | float):
            return False
        return math.isclose(computed, saved, rel_tol=REL_TOL, abs_tol=1e-12)
    if saved.__class__ is XLError:
        return computed is saved
    return computed == saved


@dataclass
class ParityReport:
    workbook: str
    compared: int = 0
    skipped: int = 0
    mismatches: list[tuple[str, object, object]] = field(default_factory=list)

    @property
    def matching(self) -> int:
        return self.compared - len(self.mismatches)


def workbook_parity(path: str | Path, inputs: dict | None = None, saved=None) -> ParityReport:
    """Evaluate with the saved inputs (or ``inputs`` set by name) and compare every formula
    cell with the value saved in ``saved`` (default: the workbook's own cached values)."""
    saved_values = cached_values(path) if saved is None else saved
    form = workbook_compile(path, fallback=cached_values(path))
    v = form.evaluate()
    if inputs:
        form.set_inputs(v, inputs)
    report = ParityReport(workbook=Path(path).name, skipped=len(form.skipped))
    for cid in form.order:
        address: Address = form.cells[cid]
        computed = v[cid]
        if computed.__class__.__name__ == "Arr":
            continue
        expected = saved_values.get(address)
        report.compared += 1
        if not same_value(computed, expected):
            report.mismatches.append((address_label(address), computed, expected))
    return report
