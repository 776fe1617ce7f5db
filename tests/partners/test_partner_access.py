"""What partner users read: exactly what was transmitted to their partner (a préfecture only
for its département), nothing from another platform; every read logged; the screens of the
organism (choices) and of the gestionnaires (rules, access log)."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from django_tenants.utils import schema_context

from forms_cms.formats import format_value
from organisms.models import Partner
from partners.models import AccessLog, PartnerChoice, PartnerRule, Transmission
from partners.selectors import transmissions_visible_to
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from workflow.models import DossierExport

from .conftest import partner, transmit

pytestmark = pytest.mark.django_db


def urls_of(transmission):
    with schema_context("dhup"):
        exports = {s.kind: s.pk for s in transmission.snapshots.all()}
    base = f"/partenaires/{transmission.pk}/"
    return base, f"{base}documents/{exports['pdf']}/", f"{base}documents/{exports['xml']}/"


def sent_to(dossier, **partner_filters):
    with schema_context("dhup"):
        return Transmission.objects.select_related("partner", "step_change").get(
            dossier=dossier, **{f"partner__{k}": v for k, v in partner_filters.items()}
        )


def choose_own_prefecture(dossier, declarant):  # noqa: F811
    from partners.services import partner_choices_save

    organism = declarant.membership.organism
    own = partner(kind="PREFECTURE", departement=organism.departement)
    with schema_context("dhup"):
        partner_choices_save(
            organism=organism,
            document_type=dossier.document_type,
            chosen_ids=[own.pk],
            acting_user=declarant,
        )


def assert_sees_nothing(client, transmission):
    listing = client.get("/partenaires/")
    assert listing.status_code == 200
    assert "Aucun document ne vous a été transmis" in listing.content.decode()
    for url in urls_of(transmission):
        assert client.get(url).status_code == 404


def test_the_partner_reads_its_transmission_values_pdf_and_xml(
    dossier, declarant, client_for, demo_user
):
    transmit(dossier, declarant)
    run_queued_jobs()  # the PDF snapshot
    transmission = sent_to(dossier, kind="CDC")
    client = client_for("dhup", demo_user("dhup", "partenaire-cdc"))
    listing = client.get("/partenaires/").content.decode()
    organism = declarant.membership.organism
    assert escape(organism.name) in listing and organism.siren in listing
    assert listing.count("/partenaires/") >= 3  # the detail and both documents
    detail_url, pdf_url, xml_url = urls_of(transmission)
    page = client.get(detail_url).content.decode()
    assert "Immobilisations — Brut" in page  # labels
    assert format_value(1234.5, "amount", "#,##0.00") in page  # French format
    assert "234,50" in page
    assert "TOTAL_ACTIF" in page and "(calculé)" in page  # computed values too
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    xml = client.get(xml_url)
    assert xml.status_code == 200 and b"<ACT_IMMO>1234.50</ACT_IMMO>" in xml.content
    # another partner's transmission of the same dossier: not this partner's
    for url in urls_of(sent_to(dossier, kind="ANCOLS")):
        assert client.get(url).status_code == 404
    # an export of the dossier that was not transmitted (made later by the gestionnaire)
    with schema_context("dhup"):
        other = DossierExport.objects.create(
            dossier=dossier, kind="xml", status="done", content=b"<x/>", filename="x.xml"
        )
    assert client.get(f"{detail_url}documents/{other.pk}/").status_code == 404


def test_unchosen_and_forbidden_partners_see_nothing(
    dossier, declarant, client_for, demo_user, gestionnaire
):
    with schema_context("dhup"):
        rule = PartnerRule.objects.get(partner_kind="CDC", partner=None)
        rule.mode = PartnerRule.Mode.FORBIDDEN
        rule.save()
    transmit(dossier, declarant)
    run_queued_jobs()
    seen_by_others = sent_to(dossier, kind="ANCOLS")
    # the CDC is forbidden; the préfecture was left to choice and not chosen
    for username in ("partenaire-cdc", "partenaire-prefecture"):
        assert_sees_nothing(client_for("dhup", demo_user("dhup", username)), seen_by_others)
    with schema_context("dhup"):
        assert not Transmission.objects.filter(partner__kind__in=["CDC", "PREFECTURE"]).exists()


def test_a_prefecture_reads_only_organisms_of_its_departement(
    dossier, declarant, client_for, demo_user
):
    choose_own_prefecture(dossier, declarant)
    transmit(dossier, declarant)
    run_queued_jobs()
    user = demo_user("dhup", "partenaire-prefecture")
    organism = declarant.membership.organism
    transmission = sent_to(dossier, kind="PREFECTURE")
    assert transmission.partner.departement == organism.departement
    client = client_for("dhup", user)
    assert escape(organism.name) in client.get("/partenaires/").content.decode()
    assert all(client.get(url).status_code == 200 for url in urls_of(transmission))

    with schema_context("dhup"):
        # the user moved to another département's préfecture sees nothing
        elsewhere = (
            Partner.objects.filter(kind="PREFECTURE").exclude(departement=organism.departement)
        ).first()
        user.membership.partner = elsewhere
        user.membership.save()
    assert_sees_nothing(client_for("dhup", user), transmission)

    with schema_context("dhup"):
        # even a transmission wrongly recorded to that préfecture stays hidden (selector)
        stray = Transmission.objects.create(
            dossier=dossier,
            partner=elsewhere,
            step_change=transmission.step_change,
            form_version=transmission.form_version,
            values=transmission.values,
        )
        stray.snapshots.set(transmission.snapshots.all())
        user.refresh_from_db()
        assert not transmissions_visible_to(user).exists()
    assert_sees_nothing(client_for("dhup", user), stray)


def test_another_platforms_partner_sees_nothing(dossier, declarant, client_for, demo_user):
    transmit(dossier, declarant)
    run_queued_jobs()
    transmission = sent_to(dossier, kind="CDC")
    for code in ("oph", "esh"):
        client = client_for(code, demo_user(code, "partenaire-cdc"))
        assert_sees_nothing(client, transmission)


def test_other_roles_do_not_read_partner_pages(dossier, declarant, client_for, demo_user):
    transmit(dossier, declarant)
    detail_url, *_ = urls_of(sent_to(dossier, kind="CDC"))
    for username in ("organisme", "gestionnaire", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        assert client.get("/partenaires/").status_code == 403
        assert client.get(detail_url).status_code == 403


def test_every_partner_access_is_logged_and_listed_for_gestionnaires(
    dossier, declarant, client_for, demo_user, gestionnaire
):
    transmit(dossier, declarant)
    run_queued_jobs()
    user = demo_user("dhup", "partenaire-cdc")
    transmission = sent_to(dossier, kind="CDC")
    client = client_for("dhup", user)
    detail_url, pdf_url, xml_url = urls_of(transmission)
    for url in ("/partenaires/", detail_url, pdf_url, xml_url):
        client.get(url)
    foreign_detail, *_ = urls_of(sent_to(dossier, kind="ANCOLS"))
    client.get(foreign_detail)  # refused, and logged as such
    with schema_context("dhup"):
        logs = list(AccessLog.objects.order_by("pk"))
    assert [(log.what, log.granted) for log in logs] == [
        ("list", True),
        ("values", True),
        ("pdf", True),
        ("xml", True),
        ("values", False),
    ]
    assert all(log.user_id == user.pk and log.username == "partenaire-cdc" for log in logs)
    assert all(log.partner_id == user.membership.partner_id for log in logs)
    assert [log.transmission_id for log in logs[1:4]] == [transmission.pk] * 3
    assert all(log.dossier_id == dossier.pk for log in logs[1:4])
    assert logs[4].transmission_id is None and logs[4].path == foreign_detail
    assert logs[0].ip == "127.0.0.1"

    journal = client_for("dhup", gestionnaire).get("/partenaires/journal/")
    assert journal.status_code == 200
    text = journal.content.decode()
    assert "5 consultations" in text and "partenaire-cdc" in text and "Caisse des dépôts" in text
    # the journal is the gestionnaires': partners do not read it
    assert client.get("/partenaires/journal/").status_code == 403


def test_the_organism_ticks_its_choices(dossier, declarant, client_for, gestionnaire):
    organism = declarant.membership.organism
    own = partner(kind="PREFECTURE", departement=organism.departement)
    with schema_context("dhup"):
        other = (
            Partner.objects.filter(kind="PREFECTURE").exclude(departement=organism.departement)
        ).first()
        ancols_rule = PartnerRule.objects.get(partner_kind="ANCOLS", partner=None)
        ancols_rule.mode = PartnerRule.Mode.FORBIDDEN
        ancols_rule.save()
    client = client_for("dhup", declarant)
    page = client.get("/partenaires/choix/").content.decode()
    cdc = partner(kind="CDC")
    # imposed: ticked and disabled; left to choice: a box; forbidden and other départements: absent
    assert f'id="p-{dossier.document_type_id}-{cdc.pk}" checked disabled' in page
    assert f'name="partner" value="{own.pk}"' in page and escape(own.name) in page
    assert escape(other.name) not in page
    assert "ANCOLS" not in page
    # its own federation (a COOP: the coopératives'), not the others
    own_federation = partner(kind="FEDERATION", federation=organism.federation)
    assert organism.federation == "coop" and escape(own_federation.name) in page
    assert "Fédération nationale des OPH" not in page
    response = client.post(
        "/partenaires/choix/",
        {"document_type": dossier.document_type_id, "partner": [own.pk]},
        follow=True,
    )
    assert "Choix enregistrés" in response.content.decode()
    with schema_context("dhup"):
        assert PartnerChoice.objects.get(partner=own).chosen_by == declarant
        assert set(
            PartnerChoice.objects.filter(chosen=True).values_list("partner_id", flat=True)
        ) == {own.pk}
    page = client.get("/partenaires/choix/").content.decode()
    assert f'name="partner" value="{own.pk}" checked' in page
    # an imposed partner cannot be posted as a choice: refused, nothing changes
    response = client.post(
        "/partenaires/choix/",
        {"document_type": dossier.document_type_id, "partner": [cdc.pk]},
        follow=True,
    )
    assert "n&#x27;est pas au choix" in response.content.decode()
    with schema_context("dhup"):
        assert PartnerChoice.objects.get(partner=own).chosen
    # the choice is honoured at the next transmission
    change = transmit(dossier, declarant)
    with schema_context("dhup"):
        assert Transmission.objects.filter(step_change=change, partner=own).exists()
    assert client_for("dhup", gestionnaire).get("/partenaires/choix/").status_code == 403


def test_gestionnaires_list_create_edit_and_delete_rules(client_for, gestionnaire, declarant):
    client = client_for("dhup", gestionnaire)
    page = client.get("/partenaires/regles/").content.decode()
    assert "Caisse des dépôts (CDC)" in page and "4.1, 4.8, 6" in page
    with schema_context("dhup"):
        from forms_cms.models import DocumentType

        er_sac = DocumentType.objects.get(code="ER_SAC")
        cdc = Partner.objects.get(kind="CDC")
    refused = client.post(
        "/partenaires/regles/nouvelle/",
        {"document_type": er_sac.pk, "partner_kind": "CDC", "mode": "imposed", "transmit_at": "7"},
    )
    assert refused.status_code == 200
    assert "ni une sous-étape" in refused.content.decode()
    created = client.post(
        "/partenaires/regles/nouvelle/",
        {
            "document_type": er_sac.pk,
            "partner_kind": "CDC",
            "partner": cdc.pk,
            "mode": "imposed",
            "transmit_at": "4.8, 6",
        },
    )
    assert created.status_code == 302
    with schema_context("dhup"):
        rule = PartnerRule.objects.get(document_type=er_sac)
        assert (rule.partner, rule.mode, rule.transmit_at, rule.updated_by) == (
            cdc,
            "imposed",
            "4.8,6",
            gestionnaire,
        )
    assert "4.8, 6" in client.get(f"/partenaires/regles/{rule.pk}/").content.decode()
    edited = client.post(
        f"/partenaires/regles/{rule.pk}/",
        {
            "document_type": er_sac.pk,
            "partner_kind": "CDC",
            "partner": cdc.pk,
            "mode": "forbidden",
            "transmit_at": "",
        },
    )
    assert edited.status_code == 302
    with schema_context("dhup"):
        rule.refresh_from_db()
        assert (rule.mode, rule.transmit_at) == ("forbidden", "")
    assert client.post(f"/partenaires/regles/{rule.pk}/suppression/").status_code == 302
    with schema_context("dhup"):
        assert not PartnerRule.objects.filter(pk=rule.pk).exists()
    # organisme users do not edit rules
    organisme = client_for("dhup", declarant)
    assert organisme.get("/partenaires/regles/").status_code == 403
    assert organisme.post(f"/partenaires/regles/{rule.pk}/suppression/").status_code == 403
