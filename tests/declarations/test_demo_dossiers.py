"""The demo's dossiers with filled lists: a few ER sociaux on the ministry platform (and the
QDIS SEM's shareholders), entered through the write gate, the platform recomputing what the
rows feed; the tronc commun lists then come into the federation's QDIS with « rapatrier »."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from declarations.demo import load_demo_dossiers
from declarations.services import dossier_open
from declarations.services.pairing import tc_pairing_grant
from declarations.services.sync import dossier_sync
from forms_cms.demo import load_demo_forms
from forms_cms.models import DocumentType
from workflow.models import Campaign, Dossier, Step, ValueChange

pytestmark = pytest.mark.django_db

LISTS = ["FILIALES", "PARTICIPATIONS", "TC_EXCEPTIONNELS", "TC_ADMINISTRATEURS", "ACTIONNAIRES"]


@pytest.fixture
def demo_forms(platforms, monkeypatch):
    from forms_cms import demo

    monkeypatch.setattr(
        demo,
        "DEMO_FORMS",
        {"dhup": {"ER_SOCIAUX": "er_sociaux"}, "esh": {"QDIS_ESH": "qdis_esh"},
         "epl": {"QDIS_SEM": "qdis_sem"}},
    )  # fmt: skip
    load_demo_forms()


def test_demo_dossiers_get_rows_in_each_list_and_their_computed_values(demo_forms, demo_user):
    filled = load_demo_dossiers()
    assert len(filled["dhup"]) == 3 and len(filled["epl"]) == 1
    with schema_context("dhup"):
        dossiers = {
            d.organism.family: d
            for d in Dossier.objects.filter(document_type__code="ER_SOCIAUX").select_related(
                "organism"
            )
        }
        assert set(dossiers) == {"COOP", "OPH", "ESH"}
        for family, dossier in dossiers.items():
            # an OPH is a public body: no shareholders
            expected = [t for t in LISTS if family != "OPH" or t != "ACTIONNAIRES"]
            assert [t for t in LISTS if dossier.values.get(t)] == expected, family
            assert dossier.step == Step.FILLING
            rows = dossier.values["TC_EXCEPTIONNELS"]
            # the platform recomputed the calculated columns, the totals and the lines fed
            computed = dossier.computed
            assert len(computed["TC_EXCEPTIONNELS"]) == len(rows)
            assert computed["TC_EXCEPTIONNELS"][0]["EXC_SOLDE"] == pytest.approx(
                rows[0].get("EXC_PRODUITS", 0) - rows[0].get("EXC_CHARGES", 0)
            )
            charges = sum(r.get("EXC_CHARGES", 0) for r in rows)
            assert computed["TC_CR_JH_N"] == pytest.approx(charges) != 0
            assert computed["TC_ADM_NOMBRE"] == len(dossier.values["TC_ADMINISTRATEURS"]) == 10
            cautions = sum(r["FIL_CAUTIONS"] for r in dossier.values["FILIALES"]) + sum(
                r["PAR_CAUTIONS"] for r in dossier.values["PARTICIPATIONS"]
            )
            assert computed["ER_EHB_E5_DON"] == pytest.approx(cautions)
            # entered as the declarant's save: one journaled change per list
            changes = ValueChange.objects.filter(dossier=dossier, field_name__in=LISTS)
            assert changes.count() == len(expected)
        coop = dossiers["COOP"]
        assert coop.organism == demo_user("dhup", "organisme").membership.organism
        shares = [r["ACT_POURCENTAGE"] for r in coop.computed["ACTIONNAIRES"]]
        assert sum(shares) == pytest.approx(1.0)
    with schema_context("epl"):
        qdis = Dossier.objects.get(document_type__code="QDIS_SEM")
        assert [r["ACT_CATEGORIE"] for r in qdis.values["ACTIONNAIRES"]][0] == (
            "Collectivité territoriale"
        )
        assert not qdis.values.get("TC_ADMINISTRATEURS")  # left for « rapatrier »
    # idempotent: the lists entered are kept as they are
    assert load_demo_dossiers() == {}


def test_the_esh_qdis_brings_the_common_lists_of_its_er_sociaux(demo_forms, demo_user):
    load_demo_dossiers()
    owner = demo_user("dhup", "organisme-esh")
    user = demo_user("esh", "organisme")
    assert owner.membership.organism.siren == user.membership.organism.siren
    with schema_context("dhup"):
        er = Dossier.objects.get(
            document_type__code="ER_SOCIAUX", organism=owner.membership.organism
        )
        tc_pairing_grant(dossier=er, account_email=user.email, acting_user=owner)
    with schema_context("esh"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_ESH"),
            acting_user=user,
        )
        dossier_sync(dossier=qdis, acting_user=user)
        qdis = Dossier.objects.get(pk=qdis.pk)
        assert qdis.values["TC_ADMINISTRATEURS"] == er.values["TC_ADMINISTRATEURS"]
        assert qdis.values["TC_EXCEPTIONNELS"] == er.values["TC_EXCEPTIONNELS"]
        # the QDIS's own compte de résultat lines follow from the list it received
        assert qdis.computed["TC_CR_JE_N"] == er.computed["TC_CR_JE_N"]
        assert "FILIALES" not in qdis.values  # not common, not in the QDIS
