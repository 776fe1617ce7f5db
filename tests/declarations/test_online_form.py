"""The online form: opening a dossier, saving cells, conflicts, who may do what."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from declarations.services import SaveRefused, dossier_open, dossier_values_save
from forms_cms.models import DocumentType
from workflow.models import Campaign, Dossier, ValueChange

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(demo_user):
    return upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def outsider(demo_user, declarant):
    """An organisme user of another organism (the demo's second user, moved)."""
    from organisms.models import Organism

    user = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        user.membership.organism = Organism.objects.exclude(
            pk=declarant.membership.organism_id
        ).first()
        user.membership.save()
    return user


def open_dossier(user):
    with schema_context("dhup"):
        return dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=user,
        )


def test_dossier_is_created_on_first_access_with_computed_values(version, declarant):
    dossier = open_dossier(declarant)
    assert dossier.form_version_id == version.pk
    assert dossier.values == {}
    assert dossier.computed["TOTAL_ACTIF"] == 0
    assert open_dossier(declarant).pk == dossier.pk  # one per organism, campaign, document


def test_saving_recomputes_and_records_history(version, declarant):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        result = dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "1 000,50", "TC_ACT_STOCKS": "250"},
            acting_user=declarant,
        )
        assert result.saved == {"ACT_IMMO": 1000.5, "TC_ACT_STOCKS": 250.0}
        assert result.computed == {
            "TOTAL_ACTIF": 1250.5,
            "PAS_RESULTAT": 1250.5,
            "TOTAL_PASSIF": 1250.5,
        }
        dossier.refresh_from_db()
        assert dossier.values == {"ACT_IMMO": 1000.5, "TC_ACT_STOCKS": 250.0}
        change = ValueChange.objects.get(dossier=dossier, field_name="ACT_IMMO")
        assert (change.old_value, change.new_value, change.source, change.changed_by) == (
            None,
            1000.5,
            ValueChange.Source.MANUAL,
            declarant,
        )
        # clearing a value is a change too
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": ""}, acting_user=declarant)
        dossier.refresh_from_db()
        assert "ACT_IMMO" not in dossier.values
        assert dossier.computed["TOTAL_ACTIF"] == 250


@pytest.mark.parametrize(
    ("entries", "field", "message"),
    [
        ({"ACT_IMMO": "mille"}, "ACT_IMMO", "Montant attendu"),
        ({"ACT_IMMO": "12,345"}, "ACT_IMMO", "Deux décimales"),
        ({"TOTAL_ACTIF": "5"}, "TOTAL_ACTIF", "Ce champ est calculé"),
        ({"INCONNU": "5"}, "INCONNU", "n'existe pas"),
    ],
)
def test_bad_entries_are_refused_and_nothing_changes(version, declarant, entries, field, message):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"PAS_CAPITAL": "800"}, acting_user=declarant)
        before = Dossier.objects.get(pk=dossier.pk)
        with pytest.raises(SaveRefused) as caught:
            dossier_values_save(
                dossier=dossier,
                entries={**entries, "ACT_IMMO": entries.get("ACT_IMMO", "1")},
                acting_user=declarant,
            )
        assert message in caught.value.errors[field]
        after = Dossier.objects.get(pk=dossier.pk)
        assert (after.values, after.computed, after.revision) == (
            before.values,
            before.computed,
            before.revision,
        )


def test_two_users_of_one_organism_no_lost_update(version, declarant, demo_user):
    colleague = demo_user("dhup", "organisme2")  # the demo binds both to the same organism
    assert colleague.membership.organism_id == declarant.membership.organism_id
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        # both saw the field empty; the colleague saves first
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "100"},
            seen={"ACT_IMMO": None},
            acting_user=colleague,
        )
        with pytest.raises(SaveRefused) as caught:
            dossier_values_save(
                dossier=dossier,
                entries={"ACT_IMMO": "200"},
                seen={"ACT_IMMO": None},
                acting_user=declarant,
            )
        assert "Modifié entre-temps par" in caught.value.errors["ACT_IMMO"]
        assert caught.value.conflicts == {"ACT_IMMO": 100.0}
        dossier.refresh_from_db()
        assert dossier.values["ACT_IMMO"] == 100.0
        # another field saves fine
        dossier_values_save(
            dossier=dossier,
            entries={"PAS_CAPITAL": "5"},
            seen={"PAS_CAPITAL": None},
            acting_user=declarant,
        )


def test_other_organisms_and_roles_cannot_write(version, declarant, outsider, demo_user):
    dossier = open_dossier(declarant)
    users = [outsider, demo_user("dhup", "gestionnaire"), demo_user("dhup", "partenaire-cdc")]
    for user in users:
        with schema_context("dhup"), pytest.raises(PermissionDenied):
            dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "1"}, acting_user=user)


def test_sheet_page_and_save_endpoint(version, declarant, client_for):
    client = client_for("dhup", declarant)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = DocumentType.objects.get(code="ER_SOCIAUX")
    listing = client.get("/declarations/").content.decode()
    assert "Commencer" in listing
    response = client.get(f"/declarations/ouvrir/{campaign.pk}/{er.pk}/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-n="ACT_IMMO"' in page and "Immobilisations" in page
    with schema_context("dhup"):
        dossier = Dossier.objects.get(organism=declarant.membership.organism)
    url = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    body = {"entries": {"ACT_IMMO": "2 000"}, "seen": {"ACT_IMMO": None}, "revision": 0}
    saved = client.post(url, json.dumps(body), content_type="application/json").json()
    assert saved["saved"]["ACT_IMMO"] == {"display": "2\u202f000", "seen": 2000.0}
    assert saved["computed"]["TOTAL_ACTIF"] == "2\u202f000"
    assert saved["step"] == "2 — En cours de saisie"  # the first value: the page says so
    refused = client.post(
        url, json.dumps({"entries": {"ACT_IMMO": "deux"}}), content_type="application/json"
    )
    assert refused.status_code == 400
    assert "Montant attendu" in refused.json()["errors"]["ACT_IMMO"]
    conflict = client.post(url, json.dumps(body), content_type="application/json")
    assert conflict.status_code == 409
    assert conflict.json()["current"]["ACT_IMMO"]["seen"] == 2000.0
    assert client.post(url, "{oops", content_type="application/json").status_code == 400
    # the second sheet
    assert (
        "Capital" in client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/").content.decode()
    )


def test_dossier_pages_are_closed_to_others(version, declarant, outsider, client_for, demo_user):
    dossier = open_dossier(declarant)
    sheet = f"/declarations/dossiers/{dossier.pk}/"
    save = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    body = json.dumps({"entries": {"ACT_IMMO": "1"}})
    other = client_for("dhup", outsider)
    assert other.get(sheet).status_code == 404
    assert other.post(save, body, content_type="application/json").status_code == 404
    partner = client_for("dhup", demo_user("dhup", "partenaire-cdc"))
    assert partner.get(sheet).status_code == 403
    other_platform = client_for("oph", demo_user("oph", "organisme"))
    assert other_platform.get(sheet).status_code == 404
    # step 2 is the organism's own work: the gestionnaire is told so and reads no value
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    hidden = gestionnaire.get(sheet)
    assert hidden.status_code == 403 and 'data-testid="sheet"' not in hidden.content.decode()
    assert gestionnaire.post(save, body, content_type="application/json").status_code == 403


def test_field_cells_are_anchors_for_the_verification_links(version, declarant, client_for):
    dossier = open_dossier(declarant)
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/").content
    assert b'id="ACT_IMMO"' in page and b'id="TOTAL_ACTIF"' in page
