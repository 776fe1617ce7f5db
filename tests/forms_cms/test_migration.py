"""A new form version during a campaign: impact first, then dossiers move and are recomputed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.models import Dossier, ValueChange
from workflow.services.migration import form_version_migrate, version_migration_impact

from .engine.helpers import workbook_bytes
from .test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db

# version 2: PAS_CAPITAL is gone, TOTAL_ACTIF is rounded, a new input appears
SHEETS_V2 = {
    "Actif": {**SHEETS["Actif"], "B5": "=ROUND(SUM(B3:B4)+B6,0)", "B6": None},
    "Passif": {**SHEETS["Passif"], "B4": "=Actif!B5", "B5": "=B4"},
}
NAMES_V2 = {k: v for k, v in NAMES.items() if k != "PAS_CAPITAL"} | {"ACT_AUTRES": "Actif!$B$6"}


@pytest.fixture
def campaign_with_dossiers(demo_user):
    gestionnaire = demo_user("dhup", "gestionnaire")
    v1 = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        organisms = list(Organism.objects.order_by("siren")[:3])
        form = compiled_form(v1)
        dossiers = []
        for i, organism in enumerate(organisms):
            values = {"ACT_IMMO": 1000 + i, "TC_ACT_STOCKS": 10.4, "PAS_CAPITAL": 500}
            dossiers.append(
                Dossier.objects.create(
                    organism=organism,
                    campaign=v1.campaign,
                    document_type=v1.document_type,
                    form_version=v1,
                    values=values,
                    computed=dossier_evaluate(form, values),
                )
            )
    assert dossiers[0].computed["TOTAL_ACTIF"] == pytest.approx(1010.4)
    v2 = upload("dhup", workbook_bytes(SHEETS_V2, NAMES_V2), user=gestionnaire)
    return gestionnaire, v1, v2, dossiers


def test_impact_is_shown_before_anything_changes(campaign_with_dossiers):
    _, v1, v2, dossiers = campaign_with_dossiers
    with schema_context("dhup"):
        impact = version_migration_impact(version=v2)
        assert len(impact.dossiers) == 3
        assert impact.removed_values == 3  # PAS_CAPITAL in each dossier
        assert impact.fields_affected == ["PAS_CAPITAL"]
        assert impact.computed_changes > 0
        assert all(d.form_version_id == v1.pk for d in Dossier.objects.all())


def test_migration_moves_recomputes_and_keeps_removed_values_in_history(campaign_with_dossiers):
    gestionnaire, _, v2, dossiers = campaign_with_dossiers
    with schema_context("dhup"):
        form_version_migrate(version=v2, acting_user=gestionnaire)
        dossier = Dossier.objects.get(pk=dossiers[0].pk)
        assert dossier.form_version_id == v2.pk
        assert "PAS_CAPITAL" not in dossier.values
        assert dossier.values["ACT_IMMO"] == 1000
        assert dossier.computed["TOTAL_ACTIF"] == 1010  # rounded by the new formula
        assert dossier.computed["TOTAL_PASSIF"] == 1010
        change = ValueChange.objects.get(dossier=dossier)
        assert (change.field_name, change.old_value, change.new_value, change.source) == (
            "PAS_CAPITAL",
            500,
            None,
            ValueChange.Source.VERSION_MIGRATION,
        )
        assert change.changed_by == gestionnaire
        # a second run has nothing left to do
        assert version_migration_impact(version=v2).dossiers == []


def test_only_gestionnaires_migrate(campaign_with_dossiers, demo_user, client_for):
    _, _, v2, _ = campaign_with_dossiers
    with schema_context("dhup"), pytest.raises(PermissionDenied):
        form_version_migrate(version=v2, acting_user=demo_user("dhup", "organisme"))
    organisme = client_for("dhup", demo_user("dhup", "organisme"))
    assert organisme.post(f"/campagnes/versions/{v2.pk}/migration/").status_code == 403
    other = client_for("oph", demo_user("oph", "gestionnaire"))
    assert other.get(f"/campagnes/versions/{v2.pk}/migration/").status_code == 404


def test_migration_pages(campaign_with_dossiers, client_for):
    gestionnaire, _, v2, dossiers = campaign_with_dossiers
    client = client_for("dhup", gestionnaire)
    detail = client.get(f"/formulaires/{v2.pk}/").content.decode()
    assert "3 dossiers de cette campagne sont sur une version antérieure" in detail
    page = client.get(f"/campagnes/versions/{v2.pk}/migration/").content.decode()
    assert "3 dossiers concernés · 3 valeurs de champs supprimés" in page
    assert "PAS_CAPITAL" in page
    response = client.post(f"/campagnes/versions/{v2.pk}/migration/")
    assert response.status_code == 302
    with schema_context("dhup"):
        assert set(Dossier.objects.values_list("form_version", flat=True)) == {v2.pk}
