"""Trial dossiers (« dossier d'essai », issue 18 item 3): a draft form version tried by the
platform's gestionnaires and editors on the test organism — entry, XML import, verification,
PDF through the dossier's own pages — seen by nobody else, refused on a published version,
dropped at publication, and never counted nor sent (``Dossier.objects`` leaves it out)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from forms_cms.services import form_version_publish
from organisms.services.platform_test import TEST_ORGANISM_NAME
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.declarations.test_xml import document
from tests.forms_cms.test_drafts import draft, upload_draft  # noqa: F401
from workflow.actions import MSG_TRIAL_ROLE, dossier_trial_open
from workflow.models import Dossier, DossierExport
from workflow.policy import MSG_TRIAL_ACTION, DossierPolicy

pytestmark = pytest.mark.django_db

TESTERS = ("gestionnaire", "editeur")
REFUSED = ("organisme", "organisme2", "partenaire-cdc", "partenaire-prefecture")
BANNER = "Dossier d'essai sur une version en brouillon — il n'est ni transmis ni compté"


@pytest.fixture
def trial(draft, demo_user):  # noqa: F811
    with schema_context("dhup"):
        return dossier_trial_open(version=draft, acting_user=demo_user("dhup", "gestionnaire"))


def save(client, dossier, entries, revision=0):
    body = {"entries": entries, "seen": dict.fromkeys(entries), "revision": revision}
    return client.post(
        f"/declarations/dossiers/{dossier.pk}/enregistrer/",
        json.dumps(body),
        content_type="application/json",
    )


def test_the_draft_page_offers_the_trial_to_its_readers(draft, client_for, demo_user):  # noqa: F811
    for role in TESTERS:
        client = client_for("dhup", demo_user("dhup", role))
        page = client.get(f"/formulaires/{draft.pk}/").content.decode()
        assert "Essayer sur un dossier de test" in page, role
        opened = client.post(f"/declarations/essai/{draft.pk}/")
        assert opened.status_code == 302, role
        sheet = client.get(opened["Location"]).content.decode()
        assert BANNER in sheet and 'data-n="ACT_BROUILLON"' in sheet, role
        # the step bar promises no validation: a trial never changes step
        assert "il ne change pas d&#x27;étape" in sheet or "il ne change pas d'étape" in sheet
        assert "Étape suivante" not in sheet, role
    with schema_context("dhup"):
        trial = Dossier.all_objects.get(trial=True)  # one per version, whoever opens it
        assert trial.form_version_id == draft.pk
        assert trial.organism.name == TEST_ORGANISM_NAME and not trial.organism.is_active
        assert not Dossier.objects.filter(pk=trial.pk).exists()


def test_the_trial_is_refused_to_everybody_else(draft, trial, client_for, demo_user):  # noqa: F811
    pages = [
        f"/declarations/dossiers/{trial.pk}/",
        f"/declarations/dossiers/{trial.pk}/xml/",
        f"/declarations/dossiers/{trial.pk}/verification/",
        f"/declarations/dossiers/{trial.pk}/xml/export/",
    ]
    with schema_context("dhup"):
        dossier_trial_open(version=draft, acting_user=demo_user("dhup", "editeur"))
        for role in REFUSED:
            with pytest.raises(PermissionDenied, match="gestionnaires et les éditeurs"):
                dossier_trial_open(version=draft, acting_user=demo_user("dhup", role))
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    assert save(gestionnaire, trial, {"ACT_BROUILLON": "4 321"}).status_code == 200
    for role in REFUSED:
        client = client_for("dhup", demo_user("dhup", role))
        assert client.post(f"/declarations/essai/{draft.pk}/").status_code in (403, 404), role
        for url in pages:
            response = client.get(url)
            assert response.status_code in (403, 404), (role, url)
            assert b"4321" not in response.content and b"4 321" not in response.content
        assert save(client, trial, {"ACT_BROUILLON": "1"}).status_code in (403, 404), role
    anonymous = client_for("dhup")
    assert anonymous.post(f"/declarations/essai/{draft.pk}/").status_code == 302
    for url in pages:
        response = anonymous.get(url)
        assert response.status_code == 302 and b"4321" not in response.content, url
    other = client_for("oph", demo_user("oph", "gestionnaire"))
    with schema_context("oph"):
        clash = Dossier.all_objects.filter(pk=trial.pk).exists()
    if not clash:
        for url in pages:
            assert other.get(url).status_code == 404, url


def test_the_test_organisms_own_user_does_not_see_the_trial(trial, demo_user):
    with schema_context("dhup"):
        from accounts.models import Role, User
        from organisms.services.memberships import membership_bind

        user = User.objects.create_user(username="essai-org", password="x", role=Role.ORGANISME)
        membership_bind(user=user, organism=trial.organism)
        policy = DossierPolicy(user, trial)
        assert not (policy.can_see or policy.can_read_values or policy.can_edit)
        for role in TESTERS:
            tester = DossierPolicy(demo_user("dhup", role), trial)
            assert tester.can_edit and tester.can_read_values
            assert tester.transition_refusal("transmit") == MSG_TRIAL_ACTION
            assert tester.transition_refusal("validate") == MSG_TRIAL_ACTION
        assert not DossierPolicy(demo_user("dhup", "gestionnaire"), trial).is_gestionnaire


def test_a_published_version_has_no_trial(version, demo_user):  # noqa: F811
    with schema_context("dhup"):
        with pytest.raises(PermissionDenied, match="un dossier d'essai ne s'ouvre que"):
            dossier_trial_open(version=version, acting_user=demo_user("dhup", "gestionnaire"))
        with pytest.raises(PermissionDenied, match=MSG_TRIAL_ROLE[:30]):
            dossier_trial_open(version=version, acting_user=demo_user("dhup", "organisme"))


def test_the_published_version_page_says_why(version, client_for, demo_user):  # noqa: F811
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    assert (
        "Essayer sur un dossier de test"
        not in client.get(f"/formulaires/{version.pk}/").content.decode()
    )
    page = client.post(f"/declarations/essai/{version.pk}/", follow=True).content.decode()
    assert "un dossier d&#x27;essai ne s&#x27;ouvre que sur une version en brouillon" in page


def test_entry_import_verification_and_pdf_on_the_trial(trial, client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "editeur"))
    saved = save(client, trial, {"ACT_BROUILLON": "2 000"})
    assert saved.status_code == 200, saved.content
    assert saved.json()["saved"]["ACT_BROUILLON"]["seen"] == 2000.0
    xml = document(
        "<ACT_IMMO>12</ACT_IMMO>",
        siren=trial.organism.siren,
        ns="urn:harmonia:formulaire:ER_SOCIAUX:2",
        version_attr="2",
    )
    url = f"/declarations/dossiers/{trial.pk}/xml/"
    page = client.post(url, {"file": SimpleUploadedFile("d.xml", xml)}).content.decode()
    assert "Import effectué" in page and BANNER in page, page[:3000]
    with schema_context("dhup"):
        trial = Dossier.all_objects.get(pk=trial.pk)
        assert trial.values["ACT_IMMO"] == 12 and trial.values["ACT_BROUILLON"] == 2000
    verification = client.get(f"/declarations/dossiers/{trial.pk}/verification/")
    assert verification.status_code == 200 and BANNER in verification.content.decode()
    made = client.post(f"/declarations/dossiers/{trial.pk}/pdf/")
    assert made.status_code == 302
    assert run_queued_jobs() == 1
    with schema_context("dhup"):
        export = DossierExport.objects.get(dossier_id=trial.pk)
    download = client.get(f"/declarations/dossiers/{trial.pk}/pdf/{export.pk}/telecharger/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    # no lifecycle action: the step page refuses validation
    step = client.post(f"/declarations/dossiers/{trial.pk}/etape/", {"action": "validate"})
    assert step.status_code in (302, 403)
    with schema_context("dhup"):
        assert Dossier.all_objects.get(pk=trial.pk).step == "2"


def test_publishing_drops_the_trial_and_leaves_real_dossiers(
    draft,  # noqa: F811
    trial,
    declarant,  # noqa: F811
    demo_user,
):
    dossier = open_dossier(declarant)  # on v1
    with schema_context("dhup"):
        from declarations.pdf.tasks import dossier_pdf_request

        dossier_pdf_request(dossier=trial, acting_user=demo_user("dhup", "editeur"))
    run_queued_jobs()
    with schema_context("dhup"):
        form_version_publish(version=draft, acting_user=demo_user("dhup", "gestionnaire"))
        assert not Dossier.all_objects.filter(trial=True).exists()
        assert not DossierExport.objects.filter(dossier_id=trial.pk).exists()
        assert Dossier.objects.filter(pk=dossier.pk).exists()
