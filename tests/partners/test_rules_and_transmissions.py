"""Default rules, rules edited by gestionnaires, the organism's choices, and the automatic
transmissions they decide at the configured sub-steps and steps."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from organisms.models import Partner
from partners.models import PartnerChoice, PartnerRule, Transmission
from partners.services import (
    partner_choices_save,
    partner_rule_create,
    partner_rule_update,
    partners_defaults,
)
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from workflow.models import DossierExport

from .conftest import fire, partner, transmit

pytestmark = pytest.mark.django_db


def sent(dossier, change=None):
    with schema_context("dhup"):
        rows = Transmission.objects.filter(dossier=dossier)
        if change is not None:
            rows = rows.filter(step_change=change)
        return sorted(rows.values_list("partner__name", flat=True))


NATIONAL = ["ANCOLS", "CGLLS", "Caisse des dépôts"]


def test_ministry_defaults(platforms):
    with schema_context("dhup"):
        rules = {
            r.partner_kind: r
            for r in PartnerRule.objects.filter(document_type__code="ER_SOCIAUX", partner=None)
        }
        assert {k: (r.mode, r.transmit_at) for k, r in rules.items()} == {
            "CDC": ("imposed", "4.1,4.8,6"),
            "CGLLS": ("imposed", "4.1,4.8,6"),
            "ANCOLS": ("imposed", "4.1,4.8,6"),
            "PREFECTURE": ("choice", "4.1,4.8,6"),
            "FEDERATION": ("choice", "4.1,4.8,6"),
        }
        assert PartnerRule.objects.count() == 5
        assert partners_defaults() == 0  # idempotent: nothing added the second time
        assert PartnerRule.objects.count() == 5
        for kind in ("CDC", "CGLLS", "ANCOLS"):
            assert Partner.objects.filter(kind=kind).count() == 1
    for code in ("oph", "esh", "coop", "epl"):  # no default rule on the federations' platforms
        with schema_context(code):
            assert not PartnerRule.objects.exists()


def test_imposed_partners_get_the_transmission_at_4_1_then_4_8_then_6(
    dossier, declarant, gestionnaire
):
    change = transmit(dossier, declarant)
    # 4.1 (reached by the transmission itself): the imposed partners, nobody else
    assert sent(dossier, change) == NATIONAL
    with schema_context("dhup"):
        snapshots = set(DossierExport.objects.filter(step_change=change))
        assert {s.kind for s in snapshots} == {"pdf", "xml"}
        for t in Transmission.objects.filter(step_change=change):
            assert set(t.snapshots.all()) == snapshots  # the PDF is linked while it renders
            assert t.values == {"ACT_IMMO": 1234.5, "PAS_CAPITAL": 10.0}
            assert t.computed["TOTAL_ACTIF"] == 1234.5
            assert t.form_version_id == dossier.form_version_id
    # sub-steps not configured: nothing
    assert sent(dossier, fire(dossier, "move", gestionnaire, substep="4.3")) == []
    at_48 = fire(dossier, "move", gestionnaire, substep="4.8")
    assert sent(dossier, at_48) == NATIONAL  # one transmission per event
    with schema_context("dhup"):
        for t in Transmission.objects.filter(step_change=at_48):
            # the latest transmission's snapshots, not new ones
            assert set(t.snapshots.all()) == snapshots
    assert sent(dossier, fire(dossier, "finalise", gestionnaire)) == []
    assert sent(dossier, fire(dossier, "archive", gestionnaire)) == NATIONAL
    assert len(sent(dossier)) == 9


def test_a_new_transmission_after_hand_back_sends_the_new_snapshots(
    dossier, declarant, gestionnaire
):
    transmit(dossier, declarant)
    handed = fire(dossier, "hand_back", gestionnaire, comment="Capital à justifier")
    assert sent(dossier, handed) == []  # the hand-back stays at 4.1 but is not step 4
    again = fire(dossier, "retransmit", declarant)
    assert sent(dossier, again) == NATIONAL
    with schema_context("dhup"):
        t = Transmission.objects.filter(step_change=again).first()
        assert {s.step_change_id for s in t.snapshots.all()} == {again.pk}


def test_forbidden_and_unchosen_partners_get_nothing_chosen_ones_do(
    dossier, declarant, gestionnaire
):
    organism = declarant.membership.organism
    own_prefecture = partner(kind="PREFECTURE", departement=organism.departement)
    federation = partner(kind="FEDERATION", federation=organism.federation)
    with schema_context("dhup"):
        # CGLLS forbidden by a rule on that very partner (it overrides its kind's rule)
        partner_rule_create(
            document_type=dossier.document_type,
            partner_kind="CGLLS",
            partner=Partner.objects.get(kind="CGLLS"),
            mode="forbidden",
            acting_user=gestionnaire,
        )
        partner_choices_save(
            organism=organism,
            document_type=dossier.document_type,
            chosen_ids=[own_prefecture.pk, federation.pk],
            acting_user=declarant,
        )
        # changing one's mind: the federation unticked
        partner_choices_save(
            organism=organism,
            document_type=dossier.document_type,
            chosen_ids=[own_prefecture.pk],
            acting_user=declarant,
        )
        assert not PartnerChoice.objects.get(partner=federation).chosen
    change = transmit(dossier, declarant)
    assert sent(dossier, change) == sorted(["ANCOLS", "Caisse des dépôts", own_prefecture.name])


def test_a_rule_may_be_made_forbidden_for_a_whole_kind(dossier, declarant, gestionnaire):
    with schema_context("dhup"):
        rule = PartnerRule.objects.get(partner_kind="CDC", partner=None)
        partner_rule_update(rule=rule, mode="forbidden", acting_user=gestionnaire)
    assert sent(dossier, transmit(dossier, declarant)) == ["ANCOLS", "CGLLS"]


def test_choices_are_limited_to_the_choice_partners_of_the_organism(dossier, declarant):
    organism = declarant.membership.organism
    with schema_context("dhup"):
        elsewhere = (
            Partner.objects.filter(kind="PREFECTURE").exclude(departement=organism.departement)
        ).first()
        cdc = Partner.objects.get(kind="CDC")
        for refused in (elsewhere, cdc):  # another département's préfecture; an imposed one
            with pytest.raises(ValidationError, match="n'est pas au choix"):
                partner_choices_save(
                    organism=organism,
                    document_type=dossier.document_type,
                    chosen_ids=[refused.pk],
                    acting_user=declarant,
                )
        assert not PartnerChoice.objects.exists()


def test_only_gestionnaires_edit_rules_and_only_the_organism_chooses(
    dossier, declarant, gestionnaire, demo_user
):
    with schema_context("dhup"):
        with pytest.raises(PermissionDenied):
            partner_rule_create(
                document_type=dossier.document_type,
                partner_kind="DREAL",
                mode="imposed",
                acting_user=declarant,
            )
        with pytest.raises(PermissionDenied):
            partner_choices_save(
                organism=declarant.membership.organism,
                document_type=dossier.document_type,
                chosen_ids=[],
                acting_user=gestionnaire,
            )
        with pytest.raises(ValidationError, match="ni une sous-étape"):
            partner_rule_create(
                document_type=dossier.document_type,
                partner_kind="DREAL",
                mode="imposed",
                transmit_at="4.1, 9",
                acting_user=gestionnaire,
            )
        with pytest.raises(ValidationError, match="existe déjà"):
            partner_rule_create(
                document_type=dossier.document_type,
                partner_kind="CDC",
                mode="choice",
                acting_user=gestionnaire,
            )
        with pytest.raises(ValidationError, match="pas du type"):
            partner_rule_create(
                document_type=dossier.document_type,
                partner_kind="CGLLS",
                partner=Partner.objects.get(kind="CDC"),
                mode="choice",
                acting_user=gestionnaire,
            )
        rule = partner_rule_create(
            document_type=dossier.document_type,
            partner_kind="DREAL",
            mode="imposed",
            transmit_at="4.1 ; 6,4.1",
            acting_user=gestionnaire,
        )
        assert rule.transmit_at == "4.1,6"


def test_partner_users_are_told_by_email_in_french(dossier, declarant, demo_user):
    cdc_user = demo_user("dhup", "partenaire-cdc")
    prefecture_user = demo_user("dhup", "partenaire-prefecture")  # its préfecture not chosen
    mail.outbox.clear()
    transmit(dossier, declarant)
    run_queued_jobs()
    notices = [m for m in mail.outbox if "Document transmis" in m.subject]
    assert [m.to for m in notices] == [[cdc_user.email]]  # the only partner user concerned
    notice = notices[0]
    organism = declarant.membership.organism
    assert "États réglementaires — comptes sociaux 2024" in notice.subject
    assert organism.name in notice.subject
    assert f"SIREN {organism.siren}" in notice.body
    assert "vient d'être transmis à Caisse des dépôts" in notice.body
    assert "/partenaires/" in notice.body and "chaque consultation est enregistrée" in notice.body
    assert not any(prefecture_user.email in m.to for m in mail.outbox)
