"""Full recalculation of the ER-Sociaux-sized form (3,713 formulas). Target ≤ 5 ms.

Median of 200 runs; one JSON line."""

from __future__ import annotations

import statistics
import time

from form_fixture import er_artifact, report

from forms_cms.engine import CompiledForm

form = CompiledForm.loads(er_artifact().read_bytes())
values = form.evaluate()
times = []
for _ in range(200):
    started = time.perf_counter()
    form.recalculate(values)
    times.append(time.perf_counter() - started)
report(
    "form_full_recalculation",
    round(statistics.median(times) * 1000, 3),
    "ms",
    5,
    formulas=len(form.order),
)
