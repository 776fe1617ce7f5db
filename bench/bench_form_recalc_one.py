"""Recalculation after one input changes, on the ER-Sociaux-sized form. Target ≤ 0.5 ms median.

Every input field is changed in turn (a random order, fixed seed) and only its dependents are
recomputed; the first change of each input includes working out its dependents. One JSON line.
"""

from __future__ import annotations

import random
import statistics
import time

from form_fixture import er_artifact, report

from forms_cms.engine import CompiledForm

form = CompiledForm.loads(er_artifact().read_bytes())
values = form.evaluate()
rng = random.Random(2024)
inputs = [form.names[name] for name in form.input_names]
rng.shuffle(inputs)
times, recomputed = [], []
for cid in inputs:
    values[cid] = round(rng.uniform(-1e6, 1e6), 2)
    started = time.perf_counter()
    recomputed.append(len(form.recompute(values, [cid])))
    times.append(time.perf_counter() - started)
report(
    "form_recalculation_one_input",
    round(statistics.median(times) * 1000, 4),
    "ms",
    0.5,
    p95_ms=round(sorted(times)[int(len(times) * 0.95)] * 1000, 4),
    inputs=len(inputs),
    mean_formulas_recomputed=round(statistics.mean(recomputed), 1),
)
