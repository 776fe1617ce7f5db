"""Import of a filled Excel support of a full ER Sociaux: every input cell and 50 rows in each
of its five multivalued tables, recalculated by LibreOffice (so that its 3,700 computed values
are compared with the platform's recomputation), checked, applied, recomputed and saved, then
150 controls run, as the import does.

Target ≤ 1.5 s (issue 16). Median of 5 imports; before each, the dossier is given other values
by an XML import (not timed), so that every field of the workbook changes."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from declarations_env import er_dossier, full_er_xml
from form_fixture import report

TARGET = 1.5

with er_dossier(controls=150) as (platform, dossier, user):
    from declarations.services.imports import dossier_import_workbook, dossier_import_xml
    from fixtures.parity_corpus.libreoffice import libreoffice_recalculate
    from forms_cms.support import dossier_support

    dossier_import_xml(dossier=dossier, data=full_er_xml(dossier, 1), acting_user=user)
    dossier.refresh_from_db()
    support = dossier_support(dossier)
    recalculated = shutil.which("soffice") is not None
    if recalculated:
        folder = Path(tempfile.mkdtemp(prefix="harmonia-bench-"))
        try:
            (folder / "in").mkdir()
            (folder / "in" / "er.xlsx").write_bytes(support)
            (output,) = libreoffice_recalculate([folder / "in" / "er.xlsx"], folder / "out")
            support = output.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    times, cpu, applied, differences = [], [], 0, 0
    for seed in range(2, 8):
        dossier_import_xml(dossier=dossier, data=full_er_xml(dossier, seed), acting_user=user)
        dossier.refresh_from_db()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = dossier_import_workbook(dossier=dossier, data=support, acting_user=user)
        elapsed = time.perf_counter() - started
        if seed > 2:  # the first one warms the caches (the version's source formulas)
            times.append(elapsed)
            cpu.append(time.process_time() - cpu_started)
        applied, differences = len(result.applied), len(result.computed_differences)
value = round(statistics.median(times), 3)
report(
    "workbook_import_full_er",
    value,
    "s",
    TARGET,
    values=applied,
    computed_differences=differences,
    recalculated_by_libreoffice=recalculated,
    rows_per_table=50,
    # this process's CPU time (the database's is not in it): the figure to read on a busy
    # machine, where the wall time waits for the cores
    cpu_s=round(statistics.median(cpu), 3),
    controls=150,
)
raise SystemExit(0 if value <= TARGET else 1)
