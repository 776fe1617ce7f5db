"""The tronc-commun pairs: seeded on a fresh install, followed by « Rapatrier », edited by the
ministry's gestionnaires only, bad pairs refused with the reason and nothing changed."""

from __future__ import annotations

import html
import re

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from declarations.models import TroncCommunPair
from declarations.services import dossier_open
from declarations.services.pairing import tc_pairing_grant
from declarations.services.sync import NothingToSync, sync_preview
from declarations.services.tc_pairs import (
    MSG_COUNTERPART_ALREADY_PAIRED,
    MSG_COUNTERPART_EMPTY,
    MSG_COUNTERPART_UNKNOWN,
    MSG_DUPLICATE,
    MSG_MINISTRY_ALREADY_PAIRED,
    MSG_MINISTRY_DOCUMENT_UNKNOWN,
    MSG_NOT_MINISTRY_GESTIONNAIRE,
    MSG_PLATFORM_UNKNOWN,
    MSG_SAME_PLATFORM,
    PairRefused,
    tc_pair_create,
    tc_pair_delete,
    tc_pairs_seed,
)
from declarations.services.tronc_commun import MSG_NOT_COMMON, counterpart_of
from forms_cms.models import DocumentType
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.models import Campaign, Dossier

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import upload
from ..helpers import without_tokens
from .test_sync import ER, QDIS

pytestmark = pytest.mark.django_db

URL = "/declarations/tronc-commun/"
# the pairs that worked before they were configurable: nothing may stop working
SEEDED = {
    ("ER_SOCIAUX", "oph", "QDIS_OPH"),
    ("ER_SOCIAUX", "esh", "QDIS_ESH"),
    ("ER_SOCIAUX", "coop", "QDIS_COOP"),
    ("ER_SEM", "epl", "QDIS_SEM"),
}


def pairs(code: str = "dhup") -> set[tuple[str, str, str]]:
    with schema_context(code):
        return set(
            TroncCommunPair.objects.values_list(
                "ministry_document__code", "platform", "document_code"
            )
        )


def journal_count() -> int:
    with schema_context("dhup"):
        return ModelLogEntry.objects.filter(action__startswith="harmonia.tc_pair_").count()


@pytest.fixture
def ministry_gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def create(user, ministry, platform, document):
    with schema_context("dhup"):
        return tc_pair_create(
            ministry_document=ministry, platform=platform, document=document, acting_user=user
        )


def delete(user, ministry, platform):
    with schema_context("dhup"):
        pair = TroncCommunPair.objects.get(ministry_document__code=ministry, platform=platform)
        tc_pair_delete(pair=pair, acting_user=user)


# a fresh install ---------------------------------------------------------------------------


def test_a_fresh_install_seeds_the_pairs_that_worked_before():
    assert pairs("dhup") == SEEDED
    for code in ("oph", "esh", "coop", "epl"):  # kept once, on the ministry platform
        assert pairs(code) == set()


def test_the_seed_never_undoes_the_gestionnaires_edits(ministry_gestionnaire):
    delete(ministry_gestionnaire, "ER_SOCIAUX", "coop")
    with schema_context("dhup"):
        assert tc_pairs_seed() == 0  # platforms_sync again: the removed pair stays removed
    assert pairs() == SEEDED - {("ER_SOCIAUX", "coop", "QDIS_COOP")}
    with schema_context("dhup"):
        TroncCommunPair.objects.all().delete()
        assert tc_pairs_seed() == 4
    assert pairs() == SEEDED


# « Rapatrier » follows the pairs -------------------------------------------------------------


def test_counterparts_come_from_the_pairs(ministry_gestionnaire):
    with schema_context("oph"):
        oph = Organism.objects.order_by("siren").first()
        enquete = Dossier(organism=oph, document_type=DocumentType.objects.get(code="ENQUETE_OPH"))
        qdis = Dossier(organism=oph, document_type=DocumentType.objects.get(code="QDIS_OPH"))
        assert counterpart_of(qdis) == ("dhup", "ER_SOCIAUX")
        with pytest.raises(NothingToSync, match=MSG_NOT_COMMON):
            counterpart_of(enquete)
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        mine = Organism.objects.get(siren=oph.siren)
        assert counterpart_of(Dossier(organism=mine, document_type=er)) == ("oph", "QDIS_OPH")
        esh = Organism.objects.filter(family="ESH").first()
        assert counterpart_of(Dossier(organism=esh, document_type=er)) == ("esh", "QDIS_ESH")
        # the federation named on the registry line wins over the family's
        mine.federation = "coop"
        assert counterpart_of(Dossier(organism=mine, document_type=er)) == ("coop", "QDIS_COOP")
    # the ministry's gestionnaires pair the federal survey with the ER SAC
    create(ministry_gestionnaire, "ER_SAC", "oph", "ENQUETE_OPH")
    with schema_context("oph"):
        assert counterpart_of(enquete) == ("dhup", "ER_SAC")
    delete(ministry_gestionnaire, "ER_SOCIAUX", "oph")
    with schema_context("oph"), pytest.raises(NothingToSync, match=MSG_NOT_COMMON):
        counterpart_of(qdis)
    with schema_context("dhup"), pytest.raises(NothingToSync, match="Fédération des OPH"):
        mine.federation = ""
        counterpart_of(Dossier(organism=mine, document_type=er))


@pytest.fixture
def sem_pair(demo_user):
    """The epl organisme user's organism with its QDIS SEM on epl, and on dhup both an ER SEM
    and an ER sociaux (different capitals), each allowing the epl account to pull."""
    upload("dhup", workbook_bytes(*ER), user=demo_user("dhup", "gestionnaire"), document="ER_SEM")
    upload("dhup", workbook_bytes(*ER), user=demo_user("dhup", "gestionnaire"))
    upload("epl", workbook_bytes(*QDIS), user=demo_user("epl", "gestionnaire"), document="QDIS_SEM")
    user = demo_user("epl", "organisme")
    siren = user.membership.organism.siren
    owner = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        organism = Organism.objects.get(siren=siren)
        assert organism.family == "EPL"
        owner.membership.organism = organism
        owner.membership.save()
        ers = {}
        for code, capital in (("ER_SEM", 2000.0), ("ER_SOCIAUX", 1.0)):
            version = DocumentType.objects.get(code=code).versions.get()
            values = {"TC_CAPITAL": capital}
            ers[code] = Dossier.objects.create(
                organism=organism,
                campaign=Campaign.objects.get(exercise=2024),
                document_type=version.document_type,
                form_version=version,
                values=values,
                computed=dossier_evaluate(compiled_form(version), values),
            )
        # the ER SEM's consent: through the service, which finds its counterpart by the pair
        tc_pairing_grant(dossier=ers["ER_SEM"], account_email=user.email, acting_user=owner)
        # the ER sociaux's, written as such (it has no counterpart for an EPL)
        ers["ER_SOCIAUX"].tc_pairings.create(
            platform="epl", account_email=user.email, granted_by=owner
        )
    with schema_context("epl"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_SEM"),
            acting_user=user,
        )
    return user, qdis, ers


def test_the_epl_pulls_from_the_er_sem_not_the_er_sociaux(sem_pair):
    user, qdis, _ = sem_pair
    with schema_context("epl"):
        preview = sync_preview(dossier=qdis, acting_user=user)
    assert preview.document == "États réglementaires — sociétés d'économie mixte (SEM)"
    assert [(line.name, line.incoming) for line in preview.offered] == [("TC_CAPITAL", 2000.0)]


def test_unpairing_stops_rapatrier_and_its_link(sem_pair, ministry_gestionnaire, client_for):
    user, qdis, _ = sem_pair
    page = f"/declarations/dossiers/{qdis.pk}/"
    assert "/tronc-commun/" in client_for("epl", user).get(page).content.decode()
    delete(ministry_gestionnaire, "ER_SEM", "epl")
    with schema_context("epl"), pytest.raises(NothingToSync, match=MSG_NOT_COMMON):
        sync_preview(dossier=qdis, acting_user=user)
    assert f"/declarations/dossiers/{qdis.pk}/tronc-commun/" not in (
        client_for("epl", user).get(page).content.decode()
    )
    sync = client_for("epl", user).get(f"/declarations/dossiers/{qdis.pk}/rapatrier/")
    assert "2 000" not in without_tokens(sync.content.decode())


# bad pairs are refused with the reason, nothing changed ---------------------------------------

FEDERATIONS = "Fédération des OPH, Fédération des ESH, Fédération des coopératives HLM, "
FEDERATIONS += "Fédération des EPL"


@pytest.mark.parametrize(
    ("ministry", "platform", "document", "message", "field"),
    [
        (
            "ER_INCONNU", "oph", "ENQUETE_OPH",
            MSG_MINISTRY_DOCUMENT_UNKNOWN.format(
                code="ER_INCONNU", platform="Ministère (DHUP)",
                known="ER_SOCIAUX, ER_SAC, ER_GROUPES, ER_MOI, ER_SEM",
            ),
            "ministry_document",
        ),
        (
            "ER_SAC", "oph", "QDIS_INCONNU",
            MSG_COUNTERPART_UNKNOWN.format(
                code="QDIS_INCONNU", platform="Fédération des OPH", known="QDIS_OPH, ENQUETE_OPH"
            ),
            "counterpart",
        ),
        (
            "ER_SAC", "oph", "QDIS_ESH",  # a document of another federation
            MSG_COUNTERPART_UNKNOWN.format(
                code="QDIS_ESH", platform="Fédération des OPH", known="QDIS_OPH, ENQUETE_OPH"
            ),
            "counterpart",
        ),
        (
            "ER_SAC", "dhup", "ER_MOI",
            MSG_SAME_PLATFORM.format(code="ER_MOI", platform="Ministère (DHUP)"),
            "counterpart",
        ),
        (
            "ER_SAC", "public", "QDIS_OPH",
            MSG_PLATFORM_UNKNOWN.format(platform="public", known=FEDERATIONS),
            "counterpart",
        ),
        ("ER_SAC", "", "", MSG_COUNTERPART_EMPTY, "counterpart"),
        (
            "ER_SOCIAUX", "oph", "QDIS_OPH",
            MSG_DUPLICATE.format(
                ministry="ER_SOCIAUX", code="QDIS_OPH", platform="Fédération des OPH"
            ),
            "counterpart",
        ),
        (
            "ER_SOCIAUX", "oph", "ENQUETE_OPH",
            MSG_MINISTRY_ALREADY_PAIRED.format(
                ministry="ER_SOCIAUX", code="QDIS_OPH", platform="Fédération des OPH"
            ),
            "ministry_document",
        ),
        (
            "ER_SAC", "epl", "QDIS_SEM",
            MSG_COUNTERPART_ALREADY_PAIRED.format(
                code="QDIS_SEM", platform="Fédération des EPL", ministry="ER_SEM"
            ),
            "counterpart",
        ),
    ],
)  # fmt: skip
def test_a_bad_pair_is_refused_with_the_reason(
    ministry_gestionnaire, ministry, platform, document, message, field
):
    before, journaled = pairs(), journal_count()
    with pytest.raises(PairRefused) as refused:
        create(ministry_gestionnaire, ministry, platform, document)
    assert (refused.value.message, refused.value.field) == (message, field)
    assert pairs() == before and journal_count() == journaled


def field_error(page: str, field: str) -> str:
    """The error shown under one field of the form ("" when none)."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>(.*?)</li>', page)
    return html.unescape(found.group(1)) if found else ""


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        (
            {"ministry_document": "ER_SOCIAUX", "counterpart": "oph:QDIS_OPH"},
            "counterpart",
            MSG_DUPLICATE.format(
                ministry="ER_SOCIAUX", code="QDIS_OPH", platform="Fédération des OPH"
            ),
        ),
        (
            {"ministry_document": "ER_SAC", "counterpart": "dhup:ER_MOI"},
            "counterpart",
            MSG_SAME_PLATFORM.format(code="ER_MOI", platform="Ministère (DHUP)"),
        ),
        (
            {"ministry_document": "ER_AUTRE", "counterpart": "oph:ENQUETE_OPH"},
            "ministry_document",
            MSG_MINISTRY_DOCUMENT_UNKNOWN.format(
                code="ER_AUTRE", platform="Ministère (DHUP)",
                known="ER_SOCIAUX, ER_SAC, ER_GROUPES, ER_MOI, ER_SEM",
            ),
        ),
    ],
)  # fmt: skip
def test_the_screen_shows_the_reason_next_to_the_field(
    ministry_gestionnaire, client_for, posted, field, message
):
    journaled = journal_count()
    response = client_for("dhup", ministry_gestionnaire).post(URL, posted)
    assert response.status_code == 200
    assert field_error(response.content.decode(), field) == message
    assert pairs() == SEEDED and journal_count() == journaled


def test_the_ministry_gestionnaire_pairs_and_unpairs_through_the_screen(
    ministry_gestionnaire, client_for
):
    client = client_for("dhup", ministry_gestionnaire)
    page = client.get(URL).content.decode()
    assert 'data-pair="ER_SEM:epl:QDIS_SEM"' in page
    assert "Questionnaire du dossier individuel de situation (QDIS SEM)" in page  # read on epl
    assert 'value="oph:ENQUETE_OPH"' in page  # the federations' documents are offered
    response = client.post(URL, {"ministry_document": "ER_SAC", "counterpart": "oph:ENQUETE_OPH"})
    assert response.status_code == 302
    assert pairs() == SEEDED | {("ER_SAC", "oph", "ENQUETE_OPH")}
    with schema_context("dhup"):
        pair = TroncCommunPair.objects.get(ministry_document__code="ER_SAC")
        entry = ModelLogEntry.objects.get(action="harmonia.tc_pair_created", object_id=pair.pk)
        assert entry.user_id == ministry_gestionnaire.pk
        assert pair.created_by == ministry_gestionnaire
    assert client.post(f"{URL}{pair.pk}/supprimer/").status_code == 302
    assert pairs() == SEEDED
    assert client.post(f"{URL}{pair.pk}/supprimer/").status_code == 404


# who may see and edit the pairs --------------------------------------------------------------


@pytest.mark.parametrize("code", ["dhup", "oph", "epl"])
def test_only_gestionnaires_reach_the_screen(code, demo_user, client_for):
    with schema_context("dhup"):
        pk = TroncCommunPair.objects.get(ministry_document__code="ER_SEM").pk
    for username in (
        "organisme",
        "organisme2",
        "partenaire-cdc",
        "partenaire-prefecture",
        "editeur",
    ):
        client = client_for(code, demo_user(code, username))
        assert client.get(URL).status_code == 403, (code, username)
        assert (
            client.post(
                URL, {"ministry_document": "ER_SAC", "counterpart": "oph:ENQUETE_OPH"}
            ).status_code
            == 403
        )
        assert client.post(f"{URL}{pk}/supprimer/").status_code == 403
    anonymous = client_for(code)
    for response in (anonymous.get(URL), anonymous.post(f"{URL}{pk}/supprimer/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/connexion/")
    assert client_for(code, demo_user(code, "gestionnaire")).get(URL).status_code == 200
    assert pairs() == SEEDED


def test_the_public_host_has_no_such_screen(client_for, demo_user):
    assert client_for("public", demo_user("public", "cglls")).get(URL).status_code == 404


def test_a_federation_gestionnaire_reads_its_own_pairs_only(demo_user, client_for):
    client = client_for("epl", demo_user("epl", "gestionnaire"))
    page = client.get(URL).content.decode()
    assert 'data-pair="ER_SEM:epl:QDIS_SEM"' in page
    for other in ("QDIS_OPH", "QDIS_ESH", "QDIS_COOP"):  # other federations' pairs: not shown
        assert other not in page
    assert 'data-testid="tc-pair-form"' not in page and "/supprimer/" not in page
    assert "réglées par les gestionnaires de la plateforme du ministère" in page
    with schema_context("dhup"):
        pk = TroncCommunPair.objects.get(ministry_document__code="ER_SEM").pk
    refused = client.post(URL, {"ministry_document": "ER_SAC", "counterpart": "epl:ENQUETE_EPL"})
    assert refused.status_code == 403
    assert client.post(f"{URL}{pk}/supprimer/").status_code == 403
    assert pairs() == SEEDED


def test_the_services_check_the_ministry_gestionnaire(demo_user):
    before = pairs()
    for code, username in (("oph", "gestionnaire"), ("dhup", "organisme"), ("dhup", "editeur")):
        user = demo_user(code, username)
        with (
            schema_context(code),
            pytest.raises(PermissionDenied, match=MSG_NOT_MINISTRY_GESTIONNAIRE),
        ):
            tc_pair_create(
                ministry_document="ER_SAC", platform="oph", document="ENQUETE_OPH", acting_user=user
            )
        with schema_context("dhup"):
            pair = TroncCommunPair.objects.first()
        with schema_context(code), pytest.raises(PermissionDenied):
            tc_pair_delete(pair=pair, acting_user=user)
    assert pairs() == before


def test_the_document_types_screen_links_to_the_pairs(ministry_gestionnaire, client_for):
    page = client_for("dhup", ministry_gestionnaire).get("/formulaires/types/").content.decode()
    assert URL in page
