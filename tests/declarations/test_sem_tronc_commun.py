"""The demo's ER SEM (ministry) and QDIS SEM (EPL federation) share their tronc commun:
« Rapatrier » has the identification and the condensed statements' rows to carry."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from declarations.services import dossier_open
from declarations.services.pairing import tc_pairing_grant
from declarations.services.sync import dossier_sync, sync_preview
from declarations.services.tc_pairs import federation_counterparts
from declarations.services.tronc_commun import common_field_names
from fixtures.form_workbooks import KINDS
from forms_cms.demo import load_demo_forms
from forms_cms.models import DocumentType, FormVersion
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.models import Campaign, Dossier

pytestmark = pytest.mark.django_db

ER_VALUES = {"TC_BA_AK_BRUT": 12_345_678.9, "TC_CR_FB_N": 2_468_000.0, "SEM_ACT_NB_CONCESSIONS": 4}


@pytest.fixture
def sem_forms(platforms, monkeypatch):
    from forms_cms import demo

    monkeypatch.setattr(
        demo, "DEMO_FORMS", {"dhup": {"ER_SEM": "er_sem"}, "epl": {"QDIS_SEM": "qdis_sem"}}
    )
    assert load_demo_forms() == {"dhup": ["ER_SEM"], "epl": ["QDIS_SEM"]}
    with schema_context("dhup"):
        er = FormVersion.objects.get(document_type__code="ER_SEM")
    with schema_context("epl"):
        qdis = FormVersion.objects.get(document_type__code="QDIS_SEM")
    return er, qdis


def test_rapatrier_carries_the_er_sem_values_into_the_qdis_sem(sem_forms, demo_user):
    """An EPL's QDIS SEM pulls the common fields of its ER SEM, once the organism allowed it on
    the ministry platform; the ER's own fields stay there."""
    er_version, qdis_version = sem_forms
    assert federation_counterparts("ER_SEM") == {"epl": "QDIS_SEM"}
    with schema_context("dhup"):
        ours = common_field_names(er_version)
    with schema_context("epl"):
        theirs = common_field_names(qdis_version)
    assert len(ours) == KINDS["er_sem"]["tc"]
    assert ours <= theirs
    user = demo_user("epl", "organisme")
    with schema_context("dhup"):
        organism = Organism.objects.get(siren=user.membership.organism.siren)
        er = Dossier.objects.create(
            organism=organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=er_version.document_type,
            form_version=er_version,
            values=ER_VALUES,
            computed=dossier_evaluate(compiled_form(er_version), ER_VALUES),
        )
        owner = demo_user("dhup", "organisme2")
        owner.membership.organism = organism
        owner.membership.save()
        tc_pairing_grant(dossier=er, account_email=user.email, acting_user=owner)
    with schema_context("epl"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_SEM"),
            acting_user=user,
        )
        preview = sync_preview(dossier=qdis, acting_user=user)
        offered = {line.name: line.incoming for line in preview.offered}
        assert offered["TC_BA_AK_BRUT"] == 12_345_678.9
        assert offered["TC_CR_FB_N"] == 2_468_000.0
        assert not any(name.startswith("SEM_") for name in offered)
        dossier_sync(dossier=qdis, acting_user=user, names=["TC_BA_AK_BRUT", "TC_CR_FB_N"])
        qdis.refresh_from_db()
        assert qdis.values["TC_BA_AK_BRUT"] == 12_345_678.9
        assert qdis.values["TC_CR_FB_N"] == 2_468_000.0
