"""Carry-over and variance on the ER-Sociaux-sized form (server time, in process).

1. ``dossier_prefill`` of an empty ER dossier from the registry and from last year's
   transmitted snapshot (a full ER: the default rules fill the identification and the 482
   N-1 columns): lock, values, one recomputation, history rows. Target ≤ 250 ms median (a
   dossier opens once).
2. ``variance_flags`` of a full ER dossier against last year's snapshot (9,804 fields, the
   N-1 columns and what reads them left out). Target ≤ 30 ms p95: it runs on every sheet
   page and verification.
"""

from __future__ import annotations

import datetime
import statistics
import time

from declarations_env import er_dossier, full_er_xml
from form_fixture import report

with er_dossier() as (platform, dossier, user):
    from django_tenants.utils import schema_context

    from declarations.services.imports import dossier_import_xml
    from forms_cms.carryover import variance_flags
    from workflow.actions import dossier_prefill
    from workflow.models import Campaign, Dossier, DossierExport, StepChange
    from workflow.services.prefill import transmitted_values

    dossier_import_xml(dossier=dossier, data=full_er_xml(dossier), acting_user=user)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        last_year = Campaign.objects.create(
            exercise=dossier.campaign.exercise - 1,
            opening_date=datetime.date(2024, 1, 1),
            deadline=datetime.date(2024, 6, 30),
            opened_by=user,
        )
        old = Dossier.objects.create(
            organism=dossier.organism,
            campaign=last_year,
            document_type=dossier.document_type,
            form_version=dossier.form_version,
            values=dossier.values,
            computed=dossier.computed,
            step="4",
        )
        change = StepChange.objects.create(
            dossier=old, transition="transmit", from_step="3", to_step="4", changed_by=user
        )
        snapshot = DossierExport.objects.create(
            dossier=old,
            kind=DossierExport.Kind.XML,
            status=DossierExport.Status.DONE,
            step_change=change,
            frozen_values=old.values,
            frozen_computed=old.computed,
        )
        previous = transmitted_values(snapshot)
        # the variance of this year's figures (each moved by a seeded factor) against last year
        moved = {
            k: (v * (1.8 if i % 7 == 0 else 1.1) if v.__class__ is float else v)
            for i, (k, v) in enumerate(dossier.values.items())
        }
        Dossier.objects.filter(pk=dossier.pk).update(values=moved)
        dossier.refresh_from_db()
        variance_flags(dossier.form_version, moved, dossier.computed, previous, exercise=2023)
        times, flagged = [], 0
        for _ in range(40):
            started = time.perf_counter()
            flags = variance_flags(
                dossier.form_version, moved, dossier.computed, previous, exercise=2023
            )
            times.append(time.perf_counter() - started)
            flagged = len(flags)
        times.sort()
        variance_p95 = times[int(len(times) * 0.95)] * 1000
        prefill_times, written = [], 0
        for _ in range(10):
            Dossier.objects.filter(pk=dossier.pk).update(values={}, prefilled={}, step="1")
            dossier.refresh_from_db()
            started = time.perf_counter()
            written = len(dossier_prefill(dossier=dossier, acting_user=user))
            prefill_times.append(time.perf_counter() - started)
        prefill_median = statistics.median(prefill_times) * 1000

report("carry_over_prefill_er_median", round(prefill_median, 1), "ms", 250, fields=written)
report("variance_flags_er_p95", round(variance_p95, 1), "ms", 30, flagged=flagged)
raise SystemExit(0 if prefill_median <= 250 and variance_p95 <= 30 else 1)
