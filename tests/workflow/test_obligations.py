"""Who files what: each document type names the families bound to file it and whether the
others may file it voluntarily; organisms see only what applies to them, the counts wait only
for the organisms bound to file."""

from __future__ import annotations

import html
import re

import pytest
from django_tenants.utils import schema_context

from forms_cms.models import DocumentType
from organisms.models import Organism
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload
from workflow.actions import NotFiledByOrganism, dossier_open
from workflow.models import Campaign, Dossier
from workflow.selectors import offers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def forms(demo_user):
    """The ER sociaux and the ER MOI open for the 2024 campaign on the ministry platform."""
    gestionnaire = demo_user("dhup", "gestionnaire")
    for code in ("ER_SOCIAUX", "ER_MOI"):
        upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, document=code)
    return gestionnaire


@pytest.fixture
def moi_user(demo_user):
    """The demo's second organisme account, moved to an MOI organism."""
    user = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        user.membership.organism = Organism.objects.filter(family="MOI").first()
        user.membership.save()
    return user


def codes(offers) -> list[str]:
    return [offer.document_type.code for offer in offers]


def open_as(user, code):
    with schema_context("dhup"):
        return dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code=code),
            acting_user=user,
        )


def test_the_ministry_documents_name_the_families_that_file_them():
    with schema_context("dhup"):
        filers = dict(DocumentType.objects.values_list("code", "families"))
    assert filers["ER_SOCIAUX"] == ["OPH", "ESH", "COOP"]
    assert filers["ER_MOI"] == ["MOI"] and filers["ER_SEM"] == ["EPL"]
    assert filers["ER_SAC"] == ["SAC"] and filers["ER_GROUPES"] == ["GROUPE"]
    with schema_context("oph"):  # a federation's documents: every member
        assert all(not f for f in DocumentType.objects.values_list("families", flat=True))


def test_an_moi_sees_only_the_er_moi(forms, moi_user, demo_user, client_for):
    with schema_context("dhup"):
        assert codes(offers_for(moi_user.membership.organism)) == ["ER_MOI"]
        coop = demo_user("dhup", "organisme").membership.organism
        assert coop.family == "COOP"
        assert codes(offers_for(coop)) == ["ER_SOCIAUX"]
    page = client_for("dhup", moi_user).get("/declarations/").content.decode()
    assert "maîtrise d&#x27;ouvrage d&#x27;insertion" in page and "comptes sociaux" not in page
    home = client_for("dhup", moi_user).get("/").content.decode()
    assert 'data-document="ER_MOI"' in home and 'data-document="ER_SOCIAUX"' not in home


def test_a_document_not_for_the_organism_is_refused_and_nothing_is_opened(forms, moi_user):
    with pytest.raises(NotFiledByOrganism) as refused:
        open_as(moi_user, "ER_SOCIAUX")
    message = str(refused.value)
    assert "ne concerne pas votre organisme" in message
    assert "« Maîtrise d'ouvrage d'insertion (MOI) »" in message
    assert "« Office public de l'habitat (OPH) »" in message
    with schema_context("dhup"):
        assert not Dossier.objects.filter(organism=moi_user.membership.organism).exists()


def test_the_start_link_of_a_document_not_for_the_organism_says_why(forms, moi_user, client_for):
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = DocumentType.objects.get(code="ER_SOCIAUX")
    client = client_for("dhup", moi_user)
    response = client.get(f"/declarations/ouvrir/{campaign.pk}/{er.pk}/", follow=True)
    assert "ne concerne pas votre organisme" in html.unescape(response.content.decode())
    with schema_context("dhup"):
        assert not Dossier.objects.filter(organism=moi_user.membership.organism).exists()


def test_a_voluntary_filer_sees_the_document_as_optional_and_counts_once_begun(
    forms, moi_user, client_for
):
    with schema_context("dhup"):
        DocumentType.objects.filter(code="ER_SOCIAUX").update(voluntary=True)
        offers = {o.document_type.code: o for o in offers_for(moi_user.membership.organism)}
    assert set(offers) == {"ER_SOCIAUX", "ER_MOI"}
    assert offers["ER_MOI"].required and not offers["ER_SOCIAUX"].required
    assert not offers["ER_SOCIAUX"].late  # never late for what one files voluntarily
    page = client_for("dhup", moi_user).get("/declarations/").content.decode()
    assert page.count('data-testid="voluntary"') == 1

    gestionnaire = client_for("dhup", forms)
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        bound = Organism.objects.filter(is_active=True, family__in=["OPH", "ESH", "COOP"])
        waited = bound.count()
    workspace = f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}&steps=0"
    listed = gestionnaire.get(workspace).content.decode()
    assert moi_user.membership.organism.siren not in listed  # not waited for
    assert f'data-testid="count">{waited}</a>' in listed.replace("\u202f", "")

    dossier = open_as(moi_user, "ER_SOCIAUX")
    assert dossier.pk
    listed = gestionnaire.get(f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}")
    assert moi_user.membership.organism.siren in listed.content.decode()


def test_the_gestionnaire_sets_who_files_a_document(forms, client_for, demo_user):
    client = client_for("dhup", forms)
    with schema_context("dhup"):
        sem = DocumentType.objects.get(code="ER_SEM")
    response = client.post(
        f"/formulaires/types/{sem.pk}/",
        {
            "code": "ER_SEM",
            "label": sem.label,
            "position": sem.position,
            "families": ["EPL", "ESH"],
            "voluntary": "on",
        },
    )
    assert response.status_code == 302
    with schema_context("dhup"):
        sem.refresh_from_db()
    assert sem.families == ["EPL", "ESH"] and sem.voluntary
    listing = html.unescape(client.get("/formulaires/types/").content.decode())
    assert "Les organismes des familles « EPL / SEM » et « Entreprise sociale" in listing
    # an unknown family is refused with the field named, nothing changed
    response = client.post(
        f"/formulaires/types/{sem.pk}/",
        {"code": "ER_SEM", "label": sem.label, "position": 0, "families": ["HLM"]},
    )
    assert response.status_code == 200
    errors = re.findall(r'<div class="error" role="alert">(.*?)</div>', response.content.decode())
    assert errors and "HLM" in html.unescape(errors[0]), errors
    with schema_context("dhup"):
        sem.refresh_from_db()
    assert sem.families == ["EPL", "ESH"] and sem.voluntary
    # the screen is the gestionnaires' alone
    for role in ("organisme", "partenaire-cdc", "editeur"):
        denied = client_for("dhup", demo_user("dhup", role)).get("/formulaires/types/")
        assert denied.status_code in (302, 403), role


def test_the_demo_moi_and_epl_declarants_see_their_own_documents(demo_user):
    with schema_context("dhup"):
        moi = demo_user("dhup", "organisme-moi").membership.organism
        epl = demo_user("dhup", "organisme-epl").membership.organism
        er = {t.code: t for t in DocumentType.objects.all()}
    assert er["ER_MOI"].must_file(moi) and not er["ER_SOCIAUX"].may_file(moi)
    assert er["ER_SEM"].must_file(epl) and not er["ER_SOCIAUX"].may_file(epl)
