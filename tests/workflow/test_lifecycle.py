"""The dossier's six steps: who may move it, on which conditions, what is recorded and sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from declarations.services import DossierClosed, dossier_values_save
from declarations.services.imports import dossier_import_xml
from forms_cms.controls import control_create
from forms_cms.xmlformat import XmlImportRefused
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.declarations.test_xml import doc_for
from tests.helpers import fire
from workflow.models import DossierExport, FiabilisationStep, Step, StepChange
from workflow.services.lifecycle import LifecycleRefused, available_actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "PAS_CAPITAL": "10"}, acting_user=declarant
        )
    return dossier


def test_first_value_moves_to_step_2_and_the_organism_validates_and_transmits(
    dossier,
    declarant,
    gestionnaire,  # noqa: F811
):
    assert dossier.step == Step.FILLING
    fire(dossier, "validate", declarant)
    assert dossier.step == Step.VALIDATED
    fire(dossier, "transmit", declarant)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == Step.FIABILISATION
        assert dossier.substep.code == "4.1"
        journal = list(StepChange.objects.filter(dossier=dossier).order_by("pk"))
        assert [c.transition for c in journal] == ["start_filling", "validate", "transmit"]
        assert (journal[-1].from_step, journal[-1].to_step, journal[-1].to_substep) == (
            "3",
            "4",
            "4.1",
        )
        # snapshots: the XML at once, the PDF by a worker, from the values of the transmission
        snapshots = DossierExport.objects.filter(dossier=dossier, step_change=journal[-1])
        assert {s.kind for s in snapshots} == {"xml", "pdf"}
        assert b"<ACT_IMMO>100.00</ACT_IMMO>" in bytes(snapshots.get(kind="xml").content)
        assert snapshots.get(kind="pdf").frozen_values == {"ACT_IMMO": 100.0, "PAS_CAPITAL": 10.0}
    run_queued_jobs()
    with schema_context("dhup"):
        assert bytes(snapshots.get(kind="pdf").content).startswith(b"%PDF")
    # the gestionnaires were told
    sent = [m for m in mail.outbox if "Dossier transmis" in m.subject]
    assert sent and gestionnaire.email in sent[0].to


@pytest.mark.parametrize(
    ("action", "username"),
    [("validate", "gestionnaire"), ("validate", "partenaire-cdc"), ("finalise", "organisme")],
)
def test_transitions_refused_by_role(dossier, demo_user, action, username):
    with pytest.raises(PermissionDenied):
        fire(dossier, action, demo_user("dhup", username))


def test_transitions_refused_at_the_wrong_step(dossier, declarant, gestionnaire):  # noqa: F811
    with pytest.raises(LifecycleRefused, match="pas possible à l'étape"):
        fire(dossier, "transmit", declarant)  # not validated yet
    with pytest.raises(LifecycleRefused, match="pas possible"):
        fire(dossier, "finalise", gestionnaire)


def test_transmission_refused_while_a_blocking_control_fails(
    dossier,
    declarant,
    gestionnaire,  # noqa: F811
):
    with schema_context("dhup"):
        control_create(
            version=dossier.form_version,
            values={"code": "B1", "label": "Stocks positifs", "kind": "comparison",
                    "left": "TC_ACT_STOCKS", "operator": ">", "right": "0",
                    "severity": "blocking"},
            acting_user=gestionnaire,
        )  # fmt: skip
    with pytest.raises(LifecycleRefused) as caught:
        fire(dossier, "validate", declarant)
    assert any("B1" in p for p in caught.value.problems)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == Step.FILLING
        dossier_values_save(dossier=dossier, entries={"TC_ACT_STOCKS": "5"}, acting_user=declarant)
    fire(dossier, "validate", declarant)
    assert dossier.step == Step.VALIDATED


def test_hand_back_cycle_and_read_only_from_step_4(dossier, declarant, gestionnaire):  # noqa: F811
    fire(dossier, "validate", declarant)
    fire(dossier, "transmit", declarant)
    # read-only for the organism from step 4: entries and imports refused
    with schema_context("dhup"), pytest.raises(DossierClosed, match="ne peut plus être modifié"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "1"}, acting_user=declarant)
    with schema_context("dhup"), pytest.raises(XmlImportRefused) as caught:
        dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>1</ACT_IMMO>"), acting_user=declarant
        )
    assert "étapes 1 à 3" in caught.value.report.errors[0]
    with schema_context("dhup"):
        substep = FiabilisationStep.objects.get(code="4.3")
    fire(dossier, "move", gestionnaire, substep=substep)
    assert dossier.substep.code == "4.3"
    with pytest.raises(LifecycleRefused, match="pourquoi"):
        fire(dossier, "hand_back", gestionnaire)
    mail.outbox.clear()
    fire(dossier, "hand_back", gestionnaire, comment="Capital à justifier")
    assert dossier.step == Step.HANDED_BACK
    run_queued_jobs()  # the e-mail (it leaves the connection on the public schema)
    with schema_context("dhup"):
        assert [a.name for a in available_actions(dossier, declarant)] == ["retransmit"]
        # handed back: the organism edits again
        dossier_values_save(dossier=dossier, entries={"PAS_CAPITAL": "20"}, acting_user=declarant)
    assert any(
        "La main vous est rendue" in m.subject and declarant.email in m.to for m in mail.outbox
    )
    fire(dossier, "retransmit", declarant)
    assert (dossier.step, dossier.substep.code) == (Step.FIABILISATION, "4.3")
    fire(dossier, "finalise", gestionnaire)
    fire(dossier, "archive", gestionnaire)
    assert dossier.step == Step.ARCHIVED
    with schema_context("dhup"):
        assert DossierExport.objects.filter(dossier=dossier, kind="xml").count() == 2


def test_the_dossier_page_shows_the_step_and_the_allowed_buttons(
    dossier,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/").content
    page = page.decode()
    assert "2 — En cours de saisie" in page
    assert 'data-action="validate"' in page and 'data-action="finalise"' not in page
    client = client_for("dhup", declarant)
    response = client.post(f"/declarations/dossiers/{dossier.pk}/etape/", {"action": "validate"})
    assert response.status_code == 302
    client.post(
        f"/declarations/dossiers/{dossier.pk}/etape/", {"action": "transmit", "confirmation": "1"}
    )
    page = client.get(f"/declarations/dossiers/{dossier.pk}/").content.decode()
    assert "4 — Fiabilisation — sous-étape 4.1" in page and "consultation seule" in page
    with schema_context("dhup"):
        xml = DossierExport.objects.get(dossier=dossier, kind="xml")
    download = client.get(f"/declarations/dossiers/{dossier.pk}/transmis/{xml.pk}/")
    assert download.status_code == 200 and b"ACT_IMMO" in download.content
    # the gestionnaire sees its own buttons; a refused action says why
    manager = client_for("dhup", gestionnaire)
    assert (
        'data-action="hand_back"'
        in manager.get(f"/declarations/dossiers/{dossier.pk}/").content.decode()
    )
    refused = manager.post(
        f"/declarations/dossiers/{dossier.pk}/etape/",
        {"action": "hand_back", "confirmation": "1"},
        follow=True,
    )
    assert "pourquoi la main lui est rendue" in refused.content.decode()


# every action, every role: allowed only to its role, at its step -----------------------------
MATRIX = [
    # (dossier step before, action, role allowed)
    ("2", "validate", "organisme"),
    ("3", "reopen", "organisme"),
    ("3", "transmit", "organisme"),
    ("4", "move", "gestionnaire"),
    ("4", "hand_back", "gestionnaire"),
    ("4R", "retransmit", "organisme"),
    ("4", "finalise", "gestionnaire"),
    ("5", "archive", "gestionnaire"),
]
ROLES = ["organisme", "gestionnaire", "partenaire-cdc", "partenaire-prefecture", "editeur"]


@pytest.mark.parametrize(("step", "action", "allowed"), MATRIX)
def test_every_transition_allowed_and_refused_by_role(dossier, demo_user, step, action, allowed):
    with schema_context("dhup"):
        type(dossier).objects.filter(pk=dossier.pk).update(step=step)
        dossier.refresh_from_db()
        substep = FiabilisationStep.objects.get(code="4.2")
    extra = {"substep": substep} if action == "move" else {}
    if action == "hand_back":
        extra = {"comment": "à revoir"}
    for username in ROLES:
        user = demo_user("dhup", username)
        if username == allowed:
            continue
        with pytest.raises(PermissionDenied):
            fire(dossier, action, user, **extra)
    fire(dossier, action, demo_user("dhup", allowed), **extra)
    with schema_context("dhup"):
        assert StepChange.objects.filter(dossier=dossier, transition=action).count() == 1


def test_sub_steps_are_configured_by_gestionnaires(client_for, gestionnaire, demo_user):
    client = client_for("dhup", gestionnaire)
    response = client.post(
        "/campagnes/sous-etapes/", {"code": "4.9", "label": "Contrôle final", "position": 9}
    )
    assert response.status_code == 302
    with schema_context("dhup"):
        assert FiabilisationStep.objects.get(code="4.9").label == "Contrôle final"
        assert FiabilisationStep.objects.count() == 9
    with schema_context("oph"):
        assert not FiabilisationStep.objects.filter(code="4.9").exists()
    assert (
        client_for("dhup", demo_user("dhup", "organisme"))
        .get("/campagnes/sous-etapes/")
        .status_code
        == 403
    )
