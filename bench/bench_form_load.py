"""Load the compiled ER-Sociaux-sized form in a fresh process (the code already imported, as in
a web or worker process). Target ≤ 50 ms. Median of 7 fresh processes; one JSON line."""

from __future__ import annotations

import statistics
import subprocess
import sys

from form_fixture import ROOT, er_artifact, report

PROBE = """
import sys, time
from forms_cms.engine import CompiledForm
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
form = CompiledForm.loads(data)
elapsed = time.perf_counter() - started
form.evaluate()
print(elapsed)
"""

artifact = er_artifact()
times = [
    float(
        subprocess.run(  # noqa: S603 - our own interpreter and probe
            [sys.executable, "-c", PROBE, str(artifact)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )
    for _ in range(7)
]
report("form_load_fresh_process", round(statistics.median(times) * 1000, 2), "ms", 50)
