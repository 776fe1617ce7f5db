"""Bulk extraction of a whole ER Sociaux campaign: N dossiers with a synthetic value in each of
the form's fields and 3 rows in each multivalued table, at step 4, read by a gestionnaire
(« current » values). 829 dossiers is the whole campaign (every organism of the ministry
platform); `make bench` runs 200 (the setup of 829 alone takes minutes), with the targets
pro-rated and the names ending in ``_200_dossiers``.

Times the worker's job (``extraction_make``: read in chunks, write, zip, store) for the long
CSV (target ≤ 30 s for 829 dossiers) and the wide XLSX (≤ 90 s), and the worker's peak memory
during each (resident memory sampled every 20 ms, minus what it was when the job began; target
≤ 300 MB). ``HARMONIA_BENCH_EXTRACTION_DOSSIERS=829`` runs the whole campaign;
``HARMONIA_BENCH_EXTRACTION_FORMATS=long_csv,wide_csv,wide_xlsx,xml_zip`` chooses the formats
(default: the two with a target). ``worker_cpu_s`` is the job's own CPU time: on a shared
machine it tells more than the wall-clock time.

Measured once on the whole campaign (829 dossiers × 9,747 fields, 5 lists): see README
« Bulk extractions ».
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import random
import sys
import threading
import time

from declarations_env import er_dossier
from form_fixture import report

FULL = 829
# `make bench` runs 200 dossiers (the setup of 829 alone takes minutes); targets pro-rated
DOSSIERS = int(os.environ.get("HARMONIA_BENCH_EXTRACTION_DOSSIERS", 200))
FORMATS = os.environ.get("HARMONIA_BENCH_EXTRACTION_FORMATS", "long_csv,wide_xlsx").split(",")
TARGETS = {"long_csv": 30.0, "wide_xlsx": 90.0, "wide_csv": 90.0, "xml_zip": 120.0}
MEMORY_TARGET_MB = 300
TABLE_ROWS = 3


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory:
    """Peak resident memory above the level at start, sampled in a thread."""

    def __enter__(self):
        gc.collect()
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed setup memory back first
        self.start = self.peak = rss_mb()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def delta(self) -> float:
        return round(self.peak - self.start, 1)


def synthetic(rng, fields, tables) -> tuple[dict, dict]:
    """Stored values and computed values for every field; ``TABLE_ROWS`` rows per table."""
    values, computed = {}, {}
    for info in fields:
        (computed if info.computed else values)[info.name] = stored(rng, info)
    for meta in tables:
        values[meta.name] = [
            {c.name: stored(rng, c) for c in meta.columns if not c.computed}
            for _ in range(min(TABLE_ROWS, meta.max_rows))
        ]
        computed[meta.name] = [
            {c.name: stored(rng, c) for c in meta.columns if c.computed}
            for _ in range(min(TABLE_ROWS, meta.max_rows))
        ]
    return values, computed


def stored(rng, info):
    if info.data_type == "amount":
        return round(rng.uniform(-1e5, 5e6), 2)
    if info.data_type == "integer":
        return float(rng.randint(0, 5000))
    if info.data_type == "percentage":
        return round(rng.random(), 4)
    if info.data_type == "date":
        return float(45000 + rng.randint(0, 365))
    if info.data_type == "choice" and info.choices:
        return rng.choice(info.choices)
    return f"Texte {rng.randint(1, 999)}"


def main() -> int:
    results = []
    with er_dossier() as (platform, dossier, user):
        from django.utils import timezone

        from accounts.models import User
        from extractions.models import Extraction
        from extractions.services import extraction_make, extraction_request, storage
        from forms_cms.fields import version_fields, version_tables
        from organisms.models import Organism
        from workflow.models import Dossier

        gestionnaire = User.objects.get(username="gestionnaire")
        version = dossier.form_version
        fields = list(version_fields(version).values())
        tables = list(version_tables(version).values())
        rng = random.Random(2024)
        started = time.perf_counter()
        values, computed = synthetic(rng, fields, tables)
        Dossier.objects.filter(pk=dossier.pk).update(
            values=values, computed=computed, step="4", transmitted_at=timezone.now()
        )
        others = list(
            Organism.objects.exclude(pk=dossier.organism_id).order_by("pk")[: DOSSIERS - 1]
        )
        for i in range(0, len(others), 40):
            batch = []
            for organism in others[i : i + 40]:
                values, computed = synthetic(rng, fields, tables)
                batch.append(
                    Dossier(
                        organism=organism,
                        campaign=dossier.campaign,
                        document_type=dossier.document_type,
                        form_version=version,
                        values=values,
                        computed=computed,
                        step="4",
                        transmitted_at=timezone.now(),
                    )
                )
            Dossier.objects.bulk_create(batch)
            del batch, values, computed
        setup = round(time.perf_counter() - started, 1)
        ids = list(
            Dossier.objects.filter(
                campaign=dossier.campaign, document_type=dossier.document_type
            ).values_list("pk", flat=True)
        )
        count = len(ids)
        suffix = "" if count == FULL else f"_{count}_dossiers"
        for fmt in FORMATS:
            extraction = extraction_request(
                user=gestionnaire,
                campaign=dossier.campaign,
                document_type=dossier.document_type,
                format=fmt,
                values=Extraction.Values.CURRENT,
                scope=ids,
            )
            with PeakMemory() as memory:
                started, cpu = time.perf_counter(), time.process_time()
                if os.environ.get("HARMONIA_BENCH_PROFILE"):  # where the time goes, on stderr
                    import cProfile
                    import pstats

                    with cProfile.Profile() as profile:
                        extraction_make(extraction.pk)
                    pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(18)
                else:
                    extraction_make(extraction.pk)
                elapsed = round(time.perf_counter() - started, 1)
                cpu = round(time.process_time() - cpu, 1)
            extraction.refresh_from_db()
            if extraction.status != "done":
                print(extraction.error, file=sys.stderr)
                return 1
            storage().delete(extraction.file)
            target = round(TARGETS[fmt] * count / FULL, 1)
            results.append((f"extraction_{fmt}{suffix}", elapsed, "s", target))
            extra = {
                "dossiers": count,
                "fields": len(fields),
                "tables": len(tables),
                "size_mb": round(extraction.size / 1e6, 1),
                "worker_cpu_s": cpu,  # the job's own CPU (the machine may be shared)
                "load_average": round(os.getloadavg()[0], 1),
                "setup_s": setup,
            }
            report(f"extraction_{fmt}{suffix}", elapsed, "s", target, **extra)
            results.append((f"extraction_{fmt}_peak_memory{suffix}", memory.delta, "MB", 300))
            report(
                f"extraction_{fmt}_peak_memory{suffix}",
                memory.delta,
                "MB",
                MEMORY_TARGET_MB,
                rss_at_start_mb=round(memory.start, 1),
            )
    over = [name for name, value, _, target in results if value > target]
    if over:
        print(f"over target: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
