"""The monthly activity report of all five platforms (figures, PDF, XLSX, stored), as the job
of the 1st of each month makes it. Target ≤ 10 s.

Uses the test database of the suite (demo data: 829 organisms on dhup, 112 to 187 on the
federations; built once by tests/dbbuild.py, reused otherwise) and, inside a transaction
rolled back at the end, gives each platform a campaign in full swing: a small form version per
document type of the 2024 campaign and a dossier for 85 % of the active organisms, spread over
every step and fiabilisation sub-step. Then runs ``monthly_activity_reports_produce`` (one
report per platform, as the scheduled job) in a fresh process, so the first PDF pays
WeasyPrint's start-up as the worker would. One JSON line on stdout.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonia.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402
from form_fixture import report  # noqa: E402

from tests.dbbuild import build_database, database_exists, database_name, use_database  # noqa: E402

EXERCISE = 2024
SHARE_WITH_DOSSIER = 0.85
STEPS = ["1", "2", "3", "4", "4R", "5", "6"]


class _Rollback(Exception):
    pass


def small_workbook() -> bytes:
    """A one-sheet support with two input fields and one computed field."""
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Synthèse"
    ws["A1"], ws["B1"] = "Produits", 1000
    ws["A2"], ws["B2"] = "Charges", 800
    ws["A3"], ws["B3"] = "Résultat", "=B1-B2"
    for name, ref in [("PRODUITS", "B1"), ("CHARGES", "B2"), ("RESULTAT", "B3")]:
        wb.defined_names[name] = DefinedName(name, attr_text=f"'Synthèse'!${ref[0]}${ref[1:]}")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def campaign_in_full_swing(code: str, content: bytes) -> int:
    """Form versions and dossiers on one platform; returns the number of dossiers made."""
    from accounts.models import User
    from forms_cms.services import form_version_import
    from organisms.models import Organism
    from workflow.models import Campaign, Dossier, FiabilisationStep

    made = 0
    with schema_context(code):
        gestionnaire = User.objects.get(username="gestionnaire")
        campaign = Campaign.objects.get(exercise=EXERCISE)
        substeps = list(FiabilisationStep.objects.all())
        organisms = list(Organism.objects.filter(is_active=True).order_by("siren"))
        chosen = organisms[: int(len(organisms) * SHARE_WITH_DOSSIER)]
        for n, document_type in enumerate(campaign.document_types.order_by("code")):
            version = form_version_import(
                document_type=document_type,
                campaign=campaign,
                file_name=f"{document_type.code}.xlsx",
                content=content,
                acting_user=gestionnaire,
            )
            dossiers = []
            for i, organism in enumerate(chosen):
                step = STEPS[(i + n) % len(STEPS)]
                dossiers.append(
                    Dossier(
                        organism=organism,
                        campaign=campaign,
                        document_type=document_type,
                        form_version=version,
                        step=step,
                        substep=substeps[i % len(substeps)]
                        if substeps and step in ("4", "4R")
                        else None,
                    )
                )
            Dossier.objects.bulk_create(dossiers)
            made += len(dossiers)
    return made


def main() -> None:
    from operations.services_activity import monthly_activity_reports_produce
    from tenants.platforms import PLATFORMS

    name = database_name()
    if database_exists(name):
        use_database(name)
    else:
        build_database(name)
    content = small_workbook()
    try:
        with transaction.atomic():
            dossiers = sum(campaign_in_full_swing(spec.code, content) for spec in PLATFORMS)
            connection.set_schema_to_public()
            started = time.perf_counter()
            reports = monthly_activity_reports_produce()
            elapsed = time.perf_counter() - started
            assert sorted(r.platform for r in reports) == sorted(s.code for s in PLATFORMS)
            assert all(bytes(r.pdf).startswith(b"%PDF") and bytes(r.xlsx) for r in reports)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        connection.set_schema_to_public()
    report(
        "activity_report_all_platforms",
        round(elapsed, 2),
        "s",
        10,
        platforms=len(reports),
        dossiers=dossiers,
    )


if __name__ == "__main__":
    main()
