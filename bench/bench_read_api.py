"""The read API on the ministry platform: a gestionnaire's token lists the 829 ER Sociaux
dossiers of the campaign by pages of 500 (server time, in process), and reads one full ER
dossier (every input value, 50 rows in each multivalued table) as JSON and as XML.

Target ≤ 500 ms p95 for a page of 500 dossiers (deadlines included) and for the full
dossier's JSON or XML; the query count of a page, which must not grow with its length, is
locked by a test (tests/api/test_read_api.py)."""

from __future__ import annotations

import time

from declarations_env import er_dossier, full_er_xml
from form_fixture import report

with er_dossier() as (platform, dossier, user):
    from django_tenants.test.client import TenantClient
    from django_tenants.utils import schema_context

    from accounts.models import User
    from declarations.models import ApiToken
    from declarations.services.imports import dossier_import_xml
    from organisms.models import Organism
    from workflow.models import Dossier, FiabilisationStep

    with schema_context("dhup"):
        dossier_import_xml(dossier=dossier, data=full_er_xml(dossier), acting_user=user)
        # transmitted: the gestionnaire reads its values (set directly: a bench's setting)
        Dossier.objects.filter(pk=dossier.pk).update(step="4")
        gestionnaire = User.objects.get(username="gestionnaire")
        _, key = ApiToken.issue(user=gestionnaire, name="bench")
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
            )
            for i, o in enumerate(others)
        )
        count = Dossier.objects.filter(campaign=dossier.campaign).count()
        exercise = dossier.campaign.exercise
    client = TenantClient(platform)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    listing = f"/api/v1/campagnes/{exercise}/ER_SOCIAUX/dossiers?limit=500&offset="

    def p95(urls: list[str], rounds: int = 20) -> tuple[float, float]:
        times = []
        for i in range(rounds + 3):
            started = time.perf_counter()
            response = client.get(urls[i % len(urls)], **auth)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.content[:300]
            if i >= 3:  # warm caches first
                times.append(elapsed)
        times.sort()
        return times[int(len(times) * 0.95)] * 1000, times[len(times) // 2] * 1000

    list_p95, list_median = p95([f"{listing}0", f"{listing}500"])
    values = client.get(f"/api/v1/dossiers/{dossier.pk}", **auth).json()["valeurs"]
    json_p95, json_median = p95([f"/api/v1/dossiers/{dossier.pk}"], 10)
    xml_p95, xml_median = p95([f"/api/v1/dossiers/{dossier.pk}/xml"], 10)
worst = max(list_p95, json_p95, xml_p95)
report(
    "read_api_p95",
    round(worst, 1),
    "ms",
    500,
    dossiers=count,
    list_500_p95_ms=round(list_p95, 1),
    list_500_median_ms=round(list_median, 1),
    values=len(values),
    dossier_json_p95_ms=round(json_p95, 1),
    dossier_xml_p95_ms=round(xml_p95, 1),
    dossier_json_median_ms=round(json_median, 1),
    dossier_xml_median_ms=round(xml_median, 1),
)
if worst > 500:
    raise SystemExit(1)
