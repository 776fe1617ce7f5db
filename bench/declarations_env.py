"""A dossier of the ER-Sociaux-sized form, in the test database, for the declaring benchmarks.

Uses the test database of the suite (built once per set of migrations by tests/dbbuild.py,
reused otherwise), uploads the generated ER Sociaux workbook on the ministry platform and
opens the demo organism's dossier, all inside a transaction that is rolled back at the end:
the benchmarks leave nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonia.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from tests.dbbuild import build_database, database_exists, database_name, use_database  # noqa: E402


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def er_dossier(controls: int = 0, workbook: bytes | None = None):
    """Yield (platform, dossier, organisme user) on dhup; everything is rolled back after.

    ``controls``: that many comparison controls (on the form's computed amounts) are added;
    ``workbook``: another form than the ER Sociaux fixture."""
    from accounts.models import User
    from declarations.services import dossier_open
    from fixtures.form_workbooks import form_workbook_build
    from forms_cms.models import DocumentType
    from forms_cms.services import form_version_import
    from tenants.models import Platform
    from workflow.models import Campaign

    name = database_name()
    if database_exists(name):
        use_database(name)
    else:
        build_database(name)
    platform = Platform.objects.get(schema_name="dhup")
    try:
        with transaction.atomic():
            with schema_context("dhup"):
                gestionnaire = User.objects.get(username="gestionnaire")
                user = User.objects.select_related("membership__organism").get(username="organisme")
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / "er.xlsx"
                    if workbook is None:
                        form_workbook_build("er_sociaux", path)
                    else:
                        path.write_bytes(workbook)
                    document_type = DocumentType.objects.get(code="ER_SOCIAUX")
                    campaign = Campaign.objects.get(exercise=2024)
                    form_version_import(
                        document_type=document_type,
                        campaign=campaign,
                        file_name="ER.xlsx",
                        content=path.read_bytes(),
                        acting_user=gestionnaire,
                    )
                if controls:
                    _add_controls(document_type, campaign, gestionnaire, controls)
                dossier = dossier_open(
                    organism=user.membership.organism,
                    campaign=campaign,
                    document_type=document_type,
                    acting_user=user,
                )
                yield platform, dossier, user
            raise _Rollback
    except _Rollback:
        pass
    finally:
        connection.set_schema_to_public()


def _add_controls(document_type, campaign, gestionnaire, count: int) -> None:
    from forms_cms.controls import control_create
    from forms_cms.models import Field, FormVersion

    version = FormVersion.objects.get(document_type=document_type, campaign=campaign)
    names = list(
        Field.objects.filter(version=version, kind="computed", data_type="amount")
        .order_by("position")
        .values_list("name", flat=True)[: count * 2]
    )
    for i in range(count):
        control_create(
            version=version,
            values={
                "code": f"B{i:03d}",
                "label": f"Contrôle {i}",
                "kind": "comparison",
                "left": names[(2 * i) % len(names)],
                "operator": ">=",
                "right": names[(2 * i + 1) % len(names)],
                "tolerance": 1,
                "severity": "blocking" if i % 3 else "warning",
            },
            acting_user=gestionnaire,
        )


def full_er_xml(dossier, seed: int = 1, rows: int = 50) -> bytes:
    """A harmonised XML document carrying a plausible value for every input field, and
    ``rows`` rows in each multivalued table."""
    import random

    from lxml import etree

    from forms_cms.fields import version_fields, version_tables
    from forms_cms.workbook.xsd import form_namespace

    rng = random.Random(seed)
    version = dossier.form_version
    namespace = form_namespace(version.document_type.code, str(version.number))
    root = etree.Element(
        f"{{{namespace}}}declaration",
        {
            "formulaire": version.document_type.code,
            "version": str(version.number),
            "siren": dossier.organism.siren,
            "exercice": str(dossier.campaign.exercise),
        },
        nsmap={None: namespace},
    )
    champs = etree.SubElement(root, f"{{{namespace}}}champs")
    for name, info in version_fields(version).items():
        if info.computed:
            continue
        text = _plausible(rng, info)
        etree.SubElement(champs, f"{{{namespace}}}{name}").text = text
    for name, meta in version_tables(version).items():  # each table with ``rows`` rows
        table = etree.SubElement(champs, f"{{{namespace}}}{name}")
        for _ in range(min(rows, meta.max_rows)):
            line = etree.SubElement(table, f"{{{namespace}}}ligne")
            for info in meta.inputs:
                etree.SubElement(line, f"{{{namespace}}}{info.name}").text = _plausible(rng, info)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _plausible(rng, info) -> str:
    """A plausible XML value for a field of ``info``'s data type."""
    if info.data_type == "amount":
        return f"{rng.uniform(-1e5, 5e6):.2f}"
    if info.data_type == "integer":
        return str(rng.randint(0, 5000))
    if info.data_type == "percentage":
        return f"{rng.random():.4f}"
    if info.data_type == "date":
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if info.data_type == "choice":
        return rng.choice(info.choices)
    return f"Texte {rng.randint(1, 999)}"
