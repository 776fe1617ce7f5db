"""The gestionnaire's list of the 829 ministry dossiers, filtered (server time, in process).

Target ≤ 300 ms p95 over 30 requests, with filters on step, family and département; the
query count, which must not grow with the number of dossiers, is locked by a test
(tests/workflow/test_workspace.py)."""

from __future__ import annotations

import time

from declarations_env import er_dossier
from form_fixture import report

with er_dossier() as (platform, dossier, user):
    from django_tenants.test.client import TenantClient
    from django_tenants.utils import schema_context

    from accounts.models import User
    from organisms.models import Organism
    from workflow.models import Dossier, FiabilisationStep

    with schema_context("dhup"):
        gestionnaire = User.objects.get(username="gestionnaire")
        substep = FiabilisationStep.objects.first()
        steps = ["1", "2", "3", "4", "4R", "5"]
        others = Organism.objects.exclude(pk=dossier.organism_id).order_by("siren")
        Dossier.objects.bulk_create(
            Dossier(
                organism=o,
                campaign=dossier.campaign,
                document_type=dossier.document_type,
                form_version=dossier.form_version,
                step=steps[i % 6],
                substep=substep if steps[i % 6] in ("4", "4R") else None,
                failing_controls=i % 7 == 0,
            )
            for i, o in enumerate(others)
        )
        count = Dossier.objects.filter(campaign=dossier.campaign).count()
    client = TenantClient(platform)
    with schema_context("dhup"):
        client.force_login(gestionnaire)
    base = f"/campagnes/{dossier.campaign_id}/dossiers/"
    queries = [
        "",
        "?steps=4&steps=4R",
        "?family=OPH&steps=2&steps=3",
        "?departement=93&failing=on",
        "?q=office",
    ]
    times = []
    for i in range(35):
        started = time.perf_counter()
        response = client.get(base + queries[i % len(queries)])
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        if i >= 5:
            times.append(elapsed)
times.sort()
report(
    "workspace_list_829_p95",
    round(times[int(len(times) * 0.95)] * 1000, 1),
    "ms",
    300,
    dossiers=count,
    median_ms=round(times[len(times) // 2] * 1000, 1),
)
