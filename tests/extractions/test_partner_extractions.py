"""A partner extracts in bulk what was transmitted to it: only its transmissions, with the
values frozen in them (never the dossier's later changes), each download in its access log."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from extractions.models import Extraction
from partners.models import AccessLog, Transmission
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from tests.helpers import fire

from .test_extractions import (  # noqa: F401
    A_LATER,
    _extraction_storage,
    campaign,
    dossier_a,
    download,
    gestionnaire,
    last_extraction,
    long_rows,
    made,
    save,
    texts_of,
)

pytestmark = pytest.mark.django_db


def choice(campaign, dossier) -> str:
    return f"{campaign.pk}-{dossier.document_type_id}"


def ask(client, campaign, dossier, fmt="long_csv"):
    return client.post(
        "/extractions/partenaire/", {"document": choice(campaign, dossier), "format": fmt}
    )


@pytest.fixture
def cdc(demo_user):
    return demo_user("dhup", "partenaire-cdc")


def test_the_partner_extracts_what_was_sent_to_it_frozen(
    dossier_a,
    declarant,
    gestionnaire,
    campaign,
    cdc,
    client_for,  # noqa: F811
):
    client = client_for("dhup", cdc)
    assert "/extractions/partenaire/" in client.get("/partenaires/").content.decode()
    form = client.get("/extractions/partenaire/").content.decode()
    assert choice(campaign, dossier_a) in form
    # the dossier moves on after the transmission: handed back, changed by the organism
    fire(dossier_a, "hand_back", gestionnaire, comment="À revoir")
    save(dossier_a, declarant, {"ACT_IMMO": A_LATER})
    for fmt in [f.value for f in Extraction.Format]:
        assert ask(client, campaign, dossier_a, fmt).status_code == 302
        extraction = made(last_extraction().pk)
        assert extraction.status == "done", extraction.error
        assert extraction.partner_id == cdc.membership.partner_id
        text = texts_of(fmt, download(client, extraction))
        assert "1234.5" in text and A_LATER not in text and "5555" not in text
    ask(client, campaign, dossier_a, "long_csv")
    rows = long_rows(download(client, made(last_extraction().pk)))
    assert {r["Valeur"] for r in rows if r["Champ"] == "ACT_IMMO"} == {"1234.50"}
    assert {r["Étape"] for r in rows} == {"4 — Fiabilisation"}  # the step when sent


def test_each_download_is_in_the_partners_access_log(
    dossier_a,
    campaign,
    cdc,
    client_for,
    gestionnaire,  # noqa: F811
):
    client = client_for("dhup", cdc)
    ask(client, campaign, dossier_a)
    extraction = made(last_extraction().pk)
    with schema_context("dhup"):
        transmission = Transmission.objects.get(dossier=dossier_a, partner__kind="CDC")
    assert extraction.included == [transmission.pk]
    download(client, extraction)
    with schema_context("dhup"):
        (log,) = AccessLog.objects.filter(what="extraction")
    assert (log.user_id, log.partner_id, log.granted) == (cdc.pk, transmission.partner_id, True)
    assert (log.transmission_id, log.dossier_id) == (transmission.pk, dossier_a.pk)
    # the gestionnaires read it in the access log page
    journal = client_for("dhup", gestionnaire).get("/partenaires/journal/").content.decode()
    assert "extraction en masse" in journal


def test_a_partner_not_sent_gets_nothing(dossier_a, campaign, cdc, client_for, demo_user):
    client = client_for("dhup", cdc)
    ask(client, campaign, dossier_a)
    extraction = made(last_extraction().pk)
    prefecture = client_for("dhup", demo_user("dhup", "partenaire-prefecture"))
    assert (
        "Aucun document ne vous a été transmis"
        in prefecture.get("/extractions/partenaire/").content.decode()
    )
    response = ask(prefecture, campaign, dossier_a)
    assert response.status_code == 200
    assert "aucune extraction n'a été demandée" in response.content.decode()
    with schema_context("dhup"):
        assert Extraction.objects.count() == 1
    # nor the file asked for by another partner (404, logged as refused)
    assert prefecture.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404
    assert extraction.filename not in prefecture.get("/extractions/").content.decode()
    with schema_context("dhup"):
        assert AccessLog.objects.filter(what="extraction", granted=False).count() == 1


def test_another_platforms_partner_gets_nothing(dossier_a, campaign, cdc, client_for, demo_user):
    ask(client_for("dhup", cdc), campaign, dossier_a)
    extraction = made(last_extraction().pk)
    other = client_for("oph", demo_user("oph", "partenaire-cdc"))
    assert (
        "Aucun document ne vous a été transmis"
        in other.get("/extractions/partenaire/").content.decode()
    )
    assert other.get(f"/extractions/{extraction.pk}/fichier/").status_code == 404


def test_a_deactivated_partner_gets_nothing_more(dossier_a, campaign, cdc, client_for):
    client = client_for("dhup", cdc)
    ask(client, campaign, dossier_a)
    with schema_context("dhup"):
        cdc.membership.partner.__class__.objects.filter(pk=cdc.membership.partner_id).update(
            is_active=False
        )
    extraction = made(last_extraction().pk)
    assert extraction.status == "failed" and not extraction.file
