"""« Rapatrier » : the tronc commun bridge between the ministry and a federation platform."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from declarations.services import dossier_values_save
from declarations.services.sync import NothingToSync, dossier_sync, sync_preview
from forms_cms.models import DocumentType
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.models import Campaign, Dossier, ValueChange

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import upload

pytestmark = pytest.mark.django_db

# the ER and the QDIS share TC_CAPITAL and TC_STOCKS; each has fields of its own
ER = (
    {"S": {"A1": "Capital", "B1": 0, "A2": "Stocks", "B2": 0, "B3": 0, "B4": "=B1+B2"}},
    {"TC_CAPITAL": "S!$B$1", "TC_STOCKS": "S!$B$2", "ER_SEUL": "S!$B$3", "TOTAL": "S!$B$4"},
)
QDIS = ({"Q": {"A1": "Capital", "B1": 0, "A2": "Stocks", "B2": 0, "B3": 0}},
        {"TC_CAPITAL": "Q!$B$1", "TC_STOCKS": "Q!$B$2", "QDIS_SEUL": "Q!$B$3"})  # fmt: skip


@pytest.fixture
def pair(demo_user):
    """The oph organisme user's organism, with its QDIS on oph and its ER on dhup."""
    upload("dhup", workbook_bytes(*ER), user=demo_user("dhup", "gestionnaire"))
    upload("oph", workbook_bytes(*QDIS), user=demo_user("oph", "gestionnaire"), document="QDIS_OPH")
    user = demo_user("oph", "organisme")
    siren = user.membership.organism.siren
    with schema_context("dhup"):
        organism = Organism.objects.get(siren=siren)
        version = DocumentType.objects.get(code="ER_SOCIAUX").versions.get()
        values = {"TC_CAPITAL": 1000.0, "TC_STOCKS": 50.0, "ER_SEUL": 7.0}
        er = Dossier.objects.create(
            organism=organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=version.document_type,
            form_version=version,
            values=values,
            computed=dossier_evaluate(compiled_form(version), values),
        )
    from declarations.services import dossier_open

    with schema_context("oph"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_OPH"),
            acting_user=user,
        )
        dossier_values_save(
            dossier=qdis, entries={"TC_CAPITAL": "900", "QDIS_SEUL": "3"}, acting_user=user
        )
    return user, qdis, er


def test_preview_lists_only_common_fields_that_differ(pair):
    user, qdis, _ = pair
    with schema_context("oph"):
        preview = sync_preview(dossier=qdis, acting_user=user)
    assert preview.platform == "Ministère (DHUP)"
    assert [(line.name, line.current, line.incoming) for line in preview.lines] == [
        ("TC_CAPITAL", 900.0, 1000.0),
        ("TC_STOCKS", None, 50.0),
    ]


def test_sync_applies_and_records_a_synchronisation(pair):
    user, qdis, er = pair
    with schema_context("oph"):
        dossier_sync(dossier=qdis, acting_user=user, names=["TC_CAPITAL"])
        qdis.refresh_from_db()
        assert qdis.values == {"TC_CAPITAL": 1000.0, "QDIS_SEUL": 3.0}
        change = ValueChange.objects.get(dossier=qdis, source=ValueChange.Source.SYNCHRONISATION)
        assert (change.field_name, change.old_value, change.new_value) == (
            "TC_CAPITAL",
            900.0,
            1000.0,
        )
    with schema_context("dhup"):
        er.refresh_from_db()
        assert er.values["ER_SEUL"] == 7.0  # the other side is only read


def test_the_other_direction(pair, demo_user):
    user, qdis, er = pair
    dhup_user = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        dhup_user.membership.organism = er.organism
        dhup_user.membership.save()
        preview = sync_preview(dossier=er, acting_user=dhup_user)
        assert [(line.name, line.incoming) for line in preview.lines] == [
            ("TC_CAPITAL", 900.0),
            ("TC_STOCKS", None),
        ]


def test_only_its_own_counterpart(pair, demo_user):
    user, qdis, er = pair
    # the dhup dossier of the same SIREN is the only source: another SIREN finds nothing
    with schema_context("dhup"):
        er.organism = Organism.objects.exclude(pk=er.organism_id).filter(family="OPH").first()
        er.save()
    with schema_context("oph"), pytest.raises(NothingToSync, match="Aucun dossier"):
        sync_preview(dossier=qdis, acting_user=user)


def test_others_cannot_pull_into_or_from_a_dossier(pair, demo_user, client_for):
    user, qdis, _ = pair
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    assert "TC_CAPITAL" in client_for("oph", user).get(url).content.decode()
    assert client_for("oph", demo_user("oph", "gestionnaire")).get(url).status_code == 403
    assert client_for("dhup", demo_user("dhup", "organisme")).get(url).status_code == 404
    response = client_for("oph", user).post(url, {"champ": ["TC_STOCKS"]})
    assert response.status_code == 302
    with schema_context("oph"):
        qdis.refresh_from_db()
        assert qdis.values["TC_STOCKS"] == 50.0 and qdis.values["TC_CAPITAL"] == 900.0
