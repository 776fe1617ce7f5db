"""Each role's home page says where things stand and what to do next."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from partners.models import AccessLog
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.helpers import fire, text_of, transmit
from workflow.models import Dossier, Step

pytestmark = pytest.mark.django_db


def _badges(body: str) -> list[str]:
    return re.findall(r'data-testid="step-badge" data-step="([^"]+)"', body)


def _row(body: str, code: str) -> str:
    match = re.search(rf'<tr data-document="{code}"[^>]*>(.*?)</tr>', body, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def test_the_organism_home_lists_its_dossiers_with_step_deadline_and_next_action(
    client_for,
    version,
    declarant,  # noqa: F811
):
    client = client_for("dhup", declarant)
    body = text_of(client.get("/"))
    row = _row(body, "ER_SOCIAUX")
    assert _badges(row) == ["0"]
    assert "Commencer la saisie" in row
    assert re.search(r"\d{2}/\d{2}/\d{4}", row), "the deadline is written as a French date"

    dossier = open_dossier(declarant)
    row = _row(text_of(client.get("/")), "ER_SOCIAUX")
    assert _badges(row) == [Step.INITIALISED.value]
    assert "Continuer la saisie" in row
    assert f"/declarations/dossiers/{dossier.pk}/" in row


def test_a_handed_back_dossier_asks_for_a_correction_on_the_home(
    client_for,
    version,
    declarant,
    demo_user,  # noqa: F811
):
    from declarations.services import dossier_values_save

    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "PAS_CAPITAL": "10"}, acting_user=declarant
        )
    transmit(dossier, declarant)
    gestionnaire = demo_user("dhup", "gestionnaire")
    fire(dossier, "hand_back", gestionnaire, comment="Capital à vérifier")
    row = _row(text_of(client_for("dhup", declarant).get("/")), "ER_SOCIAUX")
    with schema_context("dhup"):
        step = Dossier.objects.get(pk=dossier.pk).step
    assert _badges(row) == [step] == [Step.HANDED_BACK]
    assert "Corriger et transmettre à nouveau" in row


def test_the_gestionnaire_home_counts_dossiers_per_step_as_the_database_does(
    client_for,
    version,
    declarant,
    demo_user,  # noqa: F811
):
    open_dossier(declarant)
    gestionnaire = demo_user("dhup", "gestionnaire")
    body = text_of(client_for("dhup", gestionnaire).get("/"))
    chart = re.search(
        r'data-testid="progress" data-document="ER_SOCIAUX">(.*?)</section>', body, re.S
    ).group(1)
    shown = dict(
        re.findall(
            r'<tr data-step="([^"]+)">.*?data-testid="count">([\d\s\u202f\xa0]+)<', chart, re.S
        )
    )
    shown = {code: int(re.sub(r"\D", "", count)) for code, count in shown.items()}
    with schema_context("dhup"):
        opened = Dossier.objects.filter(document_type__code="ER_SOCIAUX").count()
        initialised = Dossier.objects.filter(
            document_type__code="ER_SOCIAUX", step=Step.INITIALISED
        ).count()
        from organisms.models import Organism

        # only the families bound to file the ER sociaux (OPH, ESH, COOP) are waited for
        bound = Organism.objects.filter(is_active=True, family__in=["OPH", "ESH", "COOP"])
        assert 0 < bound.count() < Organism.objects.filter(is_active=True).count()
        waited = bound.count()
    assert shown[Step.INITIALISED] == initialised >= 1
    assert shown["0"] == waited - opened
    assert 'data-testid="late-dossiers"' in body and 'data-testid="unread-threads"' in body


def test_the_partner_home_lists_documents_received_and_is_journaled(client_for, demo_user):
    partner = demo_user("dhup", "partenaire-cdc")
    with schema_context("dhup"):
        before = AccessLog.objects.filter(user=partner).count()
    body = text_of(client_for("dhup", partner).get("/"))
    assert 'data-testid="received"' in body
    with schema_context("dhup"):
        assert AccessLog.objects.filter(user=partner).count() == before + 1


def test_the_editor_home_leads_to_the_editors_space(client_for, demo_user):
    body = text_of(client_for("dhup", demo_user("dhup", "editeur")).get("/"))
    assert "Espace éditeurs" in body
    assert "Formulaires et schémas XSD" in body


@pytest.mark.parametrize("code", ["dhup", "oph"])
def test_state_marks_only_on_the_ministry_platform(client_for, demo_user, code):
    body = text_of(client_for(code, demo_user(code, "gestionnaire")).get("/"))
    assert ('class="fr-logo"' in body) is (code == "dhup")
    assert ("theme-federation" in body) is (code != "dhup")
    assert 'href="#contenu"' in body and 'id="contenu"' in body
    for name in ("Accessibilité", "Mentions légales", "Données personnelles"):
        assert name in body
