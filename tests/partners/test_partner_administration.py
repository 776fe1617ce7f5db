"""Gestionnaires administer their partners (kind, name, département, region, federation), the
partners' accounts and their rules; a DREAL reads its region's documents, a federation its
members', a deactivated partner nothing; every screen is the gestionnaires' alone."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils.html import escape
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from accounts.models import Role, User
from forms_cms.models import DocumentType
from organisms.demo import DEMO_PASSWORD
from organisms.models import Membership, Organism, Partner
from organisms.regions import REGIONS, region_of
from organisms.services.memberships import platform_user_create
from organisms.siren import DEPARTEMENTS
from partners.models import PartnerRule, Transmission
from partners.selectors import partners_concerned, transmissions_visible_to
from partners.services import partner_choices_save, partner_rule_create
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from tests.helpers import text_of

from .conftest import fire, partner, transmit

pytestmark = pytest.mark.django_db

BASE = "/partenaires/gestion/"
FIELDS = {"kind": "", "name": "", "departement": "", "region": "", "departements": "",
          "federation": ""}  # fmt: skip


def partner_data(**values) -> dict:
    return {**FIELDS, **values}


def count_partners(schema: str = "dhup") -> int:
    with schema_context(schema):
        return Partner.objects.count()


def journal(action: str) -> list[ModelLogEntry]:
    with schema_context("dhup"):
        return list(ModelLogEntry.objects.filter(action=action))


@pytest.fixture
def dreal(demo_user):
    return demo_user("dhup", "partenaire-dreal").membership.partner


@pytest.fixture
def dreal_user(demo_user):
    return demo_user("dhup", "partenaire-dreal")


def impose_on_dreals(dossier, gestionnaire):
    with schema_context("dhup"):
        partner_rule_create(
            document_type=dossier.document_type,
            partner_kind="DREAL",
            mode="imposed",
            transmit_at="4.1,4.8,6",
            acting_user=gestionnaire,
        )


def reads(client, transmission) -> bool:
    """The partner's list names the transmission and its page opens."""
    listing = client.get("/partenaires/").content.decode()
    detail = client.get(f"/partenaires/{transmission.pk}/")
    shown = f'href="/partenaires/{transmission.pk}/"' in listing
    assert shown == (detail.status_code == 200)  # the list and the page agree
    return shown


# --- the permission matrix ---------------------------------------------------------------------


def admin_urls(partner_pk: int, user_pk: int) -> tuple[list[str], list[str]]:
    pages = [
        BASE,
        f"{BASE}nouveau/",
        f"{BASE}{partner_pk}/",
        f"{BASE}{partner_pk}/modification/",
        f"{BASE}{partner_pk}/comptes/nouveau/",
    ]
    posts = [
        f"{BASE}{partner_pk}/activation/",
        f"{BASE}{partner_pk}/comptes/{user_pk}/activation/",
    ]
    return pages, posts


@pytest.mark.parametrize(
    "username",
    [
        "organisme",
        "organisme-moi",
        "partenaire-cdc",
        "partenaire-prefecture",
        "partenaire-dreal",
        "editeur",
    ],
)
def test_partner_screens_are_refused_to_every_other_role(
    client_for, demo_user, dreal, dreal_user, username
):
    pages, posts = admin_urls(dreal.pk, dreal_user.pk)
    client = client_for("dhup", demo_user("dhup", username))
    for url in pages:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {"active": "0"}).status_code == 403, url
    created = client.post(f"{BASE}nouveau/", partner_data(kind="CDC", name="Partenaire pirate"))
    assert created.status_code == 403
    with schema_context("dhup"):
        assert Partner.objects.get(pk=dreal.pk).is_active
        assert User.objects.get(pk=dreal_user.pk).is_active
        assert not Partner.objects.filter(name="Partenaire pirate").exists()


def test_partner_screens_send_visitors_to_sign_in(client_for, dreal, dreal_user):
    pages, posts = admin_urls(dreal.pk, dreal_user.pk)
    anonymous = client_for("dhup")
    for url in pages:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/comptes/connexion/"
        ), url
    for url in posts:
        assert anonymous.post(url, {"active": "0"}).status_code == 302, url
    with schema_context("dhup"):
        assert Partner.objects.get(pk=dreal.pk).is_active


def test_gestionnaires_reach_every_partner_screen(client_for, demo_user, dreal, dreal_user):
    pages, _ = admin_urls(dreal.pk, dreal_user.pk)
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    for url in pages:
        assert client.get(url).status_code == 200, url
    # reached from the administration menu, beside the rules
    home = client.get("/").content.decode()
    assert f'href="{BASE}"' in home and "Partenaires et leurs comptes" in home
    assert f'href="{BASE}"' not in client_for("dhup", dreal_user).get("/").content.decode()


def test_another_platform_reaches_none_of_these_partners(client_for, demo_user, dreal, dreal_user):
    oph_gestionnaire = client_for("oph", demo_user("oph", "gestionnaire"))
    # its session is worth nothing on the ministry platform
    on_dhup = client_for("dhup")
    on_dhup.cookies = client_for("oph", demo_user("oph", "gestionnaire")).cookies
    response = on_dhup.get(f"{BASE}{dreal.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/comptes/connexion/")
    # on its own platform: its partners only; the ministry's DREAL does not exist there
    with schema_context("oph"):
        assert not Partner.objects.filter(pk=dreal.pk).exists()
    assert oph_gestionnaire.get(f"{BASE}{dreal.pk}/").status_code == 404
    assert oph_gestionnaire.post(f"{BASE}{dreal.pk}/activation/", {"active": "0"}).status_code == (
        404
    )
    listing = oph_gestionnaire.get(BASE).content.decode()
    assert "Caisse des dépôts" in listing
    assert escape(dreal.name) not in listing and "DREAL" not in listing.split("<tbody>")[1]
    # the public host has no partner screens
    assert client_for("public").get(BASE).status_code == 404
    with schema_context("dhup"):
        assert Partner.objects.get(pk=dreal.pk).is_active


# --- creating and editing ----------------------------------------------------------------------


def test_gestionnaire_creates_a_ddt_a_dreal_and_a_federation(client_for, gestionnaire):
    client = client_for("dhup", gestionnaire)
    ddt = client.post(
        f"{BASE}nouveau/", partner_data(kind="DDT", name="DDTM des Landes (40)", departement="40")
    )
    assert ddt.status_code == 302
    dreal = client.post(
        f"{BASE}nouveau/",
        partner_data(
            kind="DREAL",
            name="DREAL Bretagne",
            region="Bretagne",
            departements="35, 22;29 56",
            departement="69",  # not a DREAL's: ignored
        ),
    )
    assert dreal.status_code == 302
    federation = client.post(
        f"{BASE}nouveau/",
        partner_data(kind="FEDERATION", name="Union des ESH de l'Ouest", federation="esh"),
    )
    assert federation.status_code == 302
    with schema_context("dhup"):
        made = {p.name: p for p in Partner.objects.filter(pk__gt=0).order_by("-pk")[:3]}
        assert (made["DDTM des Landes (40)"].kind, made["DDTM des Landes (40)"].departement) == (
            "DDT",
            "40",
        )
        bretagne = made["DREAL Bretagne"]
        assert (bretagne.region, bretagne.departements, bretagne.departement) == (
            "Bretagne",
            ["22", "29", "35", "56"],
            "",
        )
        assert made["Union des ESH de l'Ouest"].federation == "esh"
        assert all(p.is_active for p in made.values())
    assert dreal["Location"] == f"{BASE}{bretagne.pk}/"
    page = text_of(client.get(dreal["Location"]))
    assert "Région Bretagne : 22, 29, 35, 56" in page
    assert "Aucun compte." in page
    created = journal("harmonia.partner_created")
    assert {e.data["name"] for e in created} == set(made)
    assert {e.user_id for e in created} == {gestionnaire.pk}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"kind": "DREAL", "name": "DREAL sans département", "region": "Bretagne"},
            "une DREAL couvre des départements de sa région ; indiquez-en au moins un "
            "(région Bretagne : 22, 29, 35, 56)",
        ),
        (
            {"kind": "DREAL", "name": "DREAL sans rien"},
            "Région : une DREAL couvre une région",
        ),
        (
            {
                "kind": "DREAL",
                "name": "DREAL débordante",
                "region": "Bretagne",
                "departements": "35, 69",
            },  # fmt: skip
            "69 hors de la région Bretagne",
        ),
        (
            {
                "kind": "DREAL",
                "name": "DREAL inventée",
                "region": "Bretagne",
                "departements": "35, 99",
            },  # fmt: skip
            "Département « 99 » inconnu",
        ),
        (
            {"kind": "PREFECTURE", "name": "Préfecture de nulle part"},
            "Département : une préfecture ou une DDT(M) agit pour un département",
        ),
        (
            {"kind": "DDT", "name": "DDT de nulle part"},
            "Département : une préfecture ou une DDT(M) agit pour un département",
        ),
        (
            {"kind": "CDC", "name": "caisse des DÉPÔTS"},
            "Nom : un partenaire s'appelle déjà « caisse des DÉPÔTS »",
        ),
        (
            {"kind": "FEDERATION", "name": "Fédération sans adhérents"},
            "Fédération : choisissez la fédération",
        ),
        ({"kind": "MAIRIE", "name": "Mairie"}, "Type de partenaire : « MAIRIE » n'est pas"),
        ({"kind": "CDC", "name": "   "}, "Nom : indiquez le nom du partenaire."),
    ],
)
def test_bad_partners_are_refused_with_the_reason(client_for, gestionnaire, data, message):
    before = count_partners()
    response = client_for("dhup", gestionnaire).post(f"{BASE}nouveau/", partner_data(**data))
    assert response.status_code == 200
    assert message in text_of(response)
    assert count_partners() == before
    assert journal("harmonia.partner_created") == []


def test_a_rule_for_an_unknown_document_type_is_refused(client_for, gestionnaire, dreal):
    with schema_context("dhup"):
        before = PartnerRule.objects.count()
    response = client_for("dhup", gestionnaire).post(
        "/partenaires/regles/nouvelle/",
        {
            "document_type": "999999",
            "partner_kind": "DREAL",
            "partner": dreal.pk,
            "mode": "imposed",
            "transmit_at": "6",
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert "Type de document inconnu sur cette plateforme" in text_of(response)
    with schema_context("dhup"):
        assert PartnerRule.objects.count() == before


def test_editing_a_partner_checks_it_again(client_for, gestionnaire, dreal):
    client = client_for("dhup", gestionnaire)
    url = f"{BASE}{dreal.pk}/modification/"
    form = client.get(url).content.decode()
    assert ", ".join(dreal.departements) in form  # the form shows what it holds
    narrowed = dreal.departements[:2]
    edited = client.post(
        url,
        partner_data(
            kind="DREAL", name="DREAL (siège)", region=dreal.region, departements=",".join(narrowed)
        ),
    )
    assert edited.status_code == 302
    with schema_context("dhup"):
        dreal.refresh_from_db()
        assert (dreal.name, dreal.departements) == ("DREAL (siège)", narrowed)
    (entry,) = journal("harmonia.partner_updated")
    assert entry.data["before"]["departements"] == list(REGIONS[dreal.region])
    # a name already taken: refused, nothing changed
    taken = client.post(url, partner_data(kind="DREAL", name="CGLLS", region=dreal.region,
                                          departements=narrowed[0]))  # fmt: skip
    assert "un partenaire s'appelle déjà « CGLLS »" in text_of(taken)
    # a rule naming it as a DREAL forbids changing its kind
    with schema_context("dhup"):
        partner_rule_create(
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            partner_kind="DREAL",
            partner=dreal,
            mode="imposed",
            acting_user=gestionnaire,
        )
    rekinded = client.post(url, partner_data(kind="DDT", name="DREAL (siège)", departement="69"))
    assert "des règles de transmission nomment ce partenaire (DREAL)" in text_of(rekinded)
    with schema_context("dhup"):
        dreal.refresh_from_db()
        assert (dreal.name, dreal.kind, dreal.departement) == ("DREAL (siège)", "DREAL", "")
    assert len(journal("harmonia.partner_updated")) == 1  # the refused edits left no entry


def test_the_partner_page_shows_its_rules_per_document_type(client_for, gestionnaire, dreal):
    client = client_for("dhup", gestionnaire)
    page = text_of(client.get(f"{BASE}{dreal.pk}/"))
    assert "aucune : rien ne lui est transmis" in page  # no DREAL rule by default
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
    assert f"/partenaires/regles/nouvelle/?partner={dreal.pk}&document_type={er.pk}" in page
    prefilled = client.get(
        f"/partenaires/regles/nouvelle/?partner={dreal.pk}&document_type={er.pk}"
    )
    assert f'<option value="{dreal.pk}" selected>' in prefilled.content.decode()
    with schema_context("dhup"):
        partner_rule_create(
            document_type=er,
            partner_kind="DREAL",
            mode="imposed",
            transmit_at="4.8",
            acting_user=gestionnaire,
        )
    rows = text_of(client.get(f"{BASE}{dreal.pk}/")).split('data-testid="partner-rules"')[1]
    assert re.search(rf"{re.escape(er.label)}</td>\s*<td>imposé</td><td>4.8</td>", rows)
    assert "celle de son type" in rows


# --- the partner's accounts --------------------------------------------------------------------


def test_a_partner_account_gets_a_single_use_link(client_for, gestionnaire, dreal):
    client = client_for("dhup", gestionnaire)
    response = client.post(
        f"{BASE}{dreal.pk}/comptes/nouveau/",
        {
            "username": "d.second",
            "first_name": "Delphine",
            "last_name": "Seconde",
            "email": "delphine@example.org",
        },  # fmt: skip
    )
    assert response.status_code == 302 and response["Location"] == f"{BASE}{dreal.pk}/"
    with schema_context("dhup"):
        user = User.objects.select_related("membership__partner").get(username="d.second")
        assert (user.role, user.membership.partner) == (Role.PARTENAIRE, dreal)
        assert not user.has_usable_password()
    assert run_queued_jobs() == 1
    (message,) = mail.outbox
    assert message.to == ["delphine@example.org"]
    link = re.search(r"http://dhup\.localhost(/comptes/mot-de-passe/nouveau/\S+/)", message.body)
    page = client_for("dhup").get(link.group(1), follow=True)
    assert "Choisissez un nouveau mot de passe" in page.content.decode()
    assert "d.second" in client.get(f"{BASE}{dreal.pk}/").content.decode()
    # the same username again: refused with the reason
    again = client.post(
        f"{BASE}{dreal.pk}/comptes/nouveau/",
        {"username": "d.second", "first_name": "D", "last_name": "S", "email": "x@example.org"},
    )
    assert "L'identifiant « d.second » est déjà utilisé" in text_of(again)
    # deactivated from the partner's page; an account of another partner is not reached there
    off = client.post(f"{BASE}{dreal.pk}/comptes/{user.pk}/activation/", {"active": "0"})
    assert off.status_code == 302
    with schema_context("dhup"):
        user.refresh_from_db()
        assert not user.is_active
        cdc_user = User.objects.get(username="partenaire-cdc")
    other = client.post(f"{BASE}{dreal.pk}/comptes/{cdc_user.pk}/activation/", {"active": "0"})
    assert other.status_code == 404
    with schema_context("dhup"):
        assert User.objects.get(pk=cdc_user.pk).is_active


# --- what a DREAL and a federation read --------------------------------------------------------


def test_a_dreal_reads_its_regions_transmitted_documents_and_nothing_else(
    dossier, declarant, gestionnaire, client_for, dreal, dreal_user
):
    organism = declarant.membership.organism
    assert organism.departement in dreal.departements
    impose_on_dreals(dossier, gestionnaire)
    transmit(dossier, declarant)
    run_queued_jobs()
    with schema_context("dhup"):
        to_dreal = Transmission.objects.get(dossier=dossier, partner=dreal)
        to_cdc = Transmission.objects.get(dossier=dossier, partner__kind="CDC")
        # the other DREALs (other regions) received nothing
        assert not Transmission.objects.filter(partner__kind="DREAL").exclude(partner=dreal)
    client = client_for("dhup", dreal_user)
    assert reads(client, to_dreal)
    for export in to_dreal.snapshots.all():
        assert client.get(f"/partenaires/{to_dreal.pk}/documents/{export.pk}/").status_code == 200
    assert not reads(client, to_cdc)  # another partner's
    with schema_context("dhup"):
        assert list(transmissions_visible_to(dreal_user)) == [to_dreal]
        # the organism moves out of the region: the DREAL neither reads it nor receives more
        outside = next(c for c in DEPARTEMENTS if c not in dreal.departements)
        Organism.objects.filter(pk=organism.pk).update(departement=outside)
        organism.refresh_from_db()
        assert dreal not in [
            c.partner
            for c in partners_concerned(organism=organism, document_type=dossier.document_type)
        ]
        assert not transmissions_visible_to(dreal_user).exists()
    assert not reads(client, to_dreal)
    assert client.get(f"/partenaires/{to_dreal.pk}/documents/{export.pk}/").status_code == 404
    assert fire(dossier, "move", gestionnaire, substep="4.8")
    with schema_context("dhup"):
        assert Transmission.objects.filter(partner=dreal).count() == 1


def test_a_federation_on_the_ministry_platform_reads_only_its_members_documents(
    dossier, declarant, gestionnaire, client_for
):
    organism = declarant.membership.organism
    own = partner(kind="FEDERATION", federation=organism.federation)
    oph = partner(kind="FEDERATION", federation="oph")
    assert organism.federation == "coop" and organism.family == "COOP"
    with schema_context("dhup"):
        kinds = {
            c.partner.federation
            for c in partners_concerned(organism=organism, document_type=dossier.document_type)
            if c.partner.kind == "FEDERATION"
        }
        assert kinds == {"coop"}  # the others' federations are not even offered
        partner_choices_save(
            organism=organism,
            document_type=dossier.document_type,
            chosen_ids=[own.pk],
            acting_user=declarant,
        )
        readers = {}
        for federation in (own, oph):
            readers[federation.federation] = platform_user_create(
                username=f"lecteur-{federation.federation}",
                email=f"lecteur-{federation.federation}@example.org",
                first_name="Lecteur",
                last_name=federation.federation,
                role=Role.PARTENAIRE,
                partner=federation,
                acting_user=gestionnaire,
            )
    transmit(dossier, declarant)
    run_queued_jobs()
    with schema_context("dhup"):
        to_own = Transmission.objects.get(dossier=dossier, partner=own)
        assert not Transmission.objects.filter(partner=oph).exists()
        # even a transmission wrongly recorded to the OPH federation stays hidden from it
        stray = Transmission.objects.create(
            dossier=dossier,
            partner=oph,
            step_change=to_own.step_change,
            form_version=to_own.form_version,
            values=to_own.values,
        )
    assert reads(client_for("dhup", readers["coop"]), to_own)
    oph_reader = client_for("dhup", readers["oph"])
    assert not reads(oph_reader, stray) and not reads(oph_reader, to_own)
    # the organism leaves the federation: its federation no longer reads it
    with schema_context("dhup"):
        Organism.objects.filter(pk=organism.pk).update(federation="")
    assert not reads(client_for("dhup", readers["coop"]), to_own)


# --- deactivation ------------------------------------------------------------------------------


def test_a_deactivated_partner_receives_nothing_and_its_users_neither_sign_in_nor_read(
    dossier, declarant, gestionnaire, client_for, dreal, dreal_user
):
    impose_on_dreals(dossier, gestionnaire)
    transmit(dossier, declarant)
    with schema_context("dhup"):
        first = Transmission.objects.get(dossier=dossier, partner=dreal)
    session = client_for("dhup", dreal_user)
    assert reads(session, first)

    admin = client_for("dhup", gestionnaire)
    assert admin.post(f"{BASE}{dreal.pk}/activation/", {"active": "0"}).status_code == 302
    with schema_context("dhup"):
        dreal.refresh_from_db()
        assert not dreal.is_active
    (entry,) = journal("harmonia.partner_deactivated")
    assert entry.user_id == gestionnaire.pk
    assert "désactivé" in text_of(admin.get(f"{BASE}{dreal.pk}/"))
    listing = admin.get(BASE, {"kind": "DREAL"}).content.decode()
    assert "désactivé" in listing.split(escape(dreal.name))[1].split("</tr>")[0]

    # its open session ends; signing in is refused; nothing is readable
    ended = session.get("/partenaires/")
    assert ended.status_code == 302 and ended["Location"].startswith("/comptes/connexion/")
    refused = client_for("dhup").post(
        "/comptes/connexion/", {"username": "partenaire-dreal", "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in refused.content.decode()
    with schema_context("dhup"):
        dreal_user.refresh_from_db()
        assert not transmissions_visible_to(dreal_user).exists()
    # it receives nothing new, the others do
    at_48 = fire(dossier, "move", gestionnaire, substep="4.8")
    with schema_context("dhup"):
        sent = set(
            Transmission.objects.filter(step_change=at_48).values_list("partner__kind", flat=True)
        )
        assert sent == {"CDC", "CGLLS", "ANCOLS"}
    # no account may be bound to it meanwhile
    bound = admin.post(
        f"{BASE}{dreal.pk}/comptes/nouveau/",
        {"username": "trop.tard", "first_name": "T", "last_name": "T", "email": "t@example.org"},
    )
    assert bound.status_code == 200
    assert "est désactivé : réactivez-le avant de lui rattacher un compte" in text_of(bound)
    with schema_context("dhup"):
        assert not User.objects.filter(username="trop.tard").exists()

    # reactivated: its users sign in and read what was sent before
    assert admin.post(f"{BASE}{dreal.pk}/activation/", {"active": "1"}).status_code == 302
    assert journal("harmonia.partner_activated")
    signed_in = client_for("dhup")
    response = signed_in.post(
        "/comptes/connexion/", {"username": "partenaire-dreal", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert reads(signed_in, first)


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_has_a_dreal_its_ddts_and_the_federations_codes(demo_user):
    user = demo_user("dhup", "partenaire-dreal")
    organism = demo_user("dhup", "organisme").membership.organism
    dreal = user.membership.partner
    region = region_of(organism.departement)
    assert (user.role, dreal.kind, dreal.region) == (Role.PARTENAIRE, "DREAL", region)
    assert dreal.departements == list(REGIONS[region])
    with schema_context("dhup"):
        ddts = Partner.objects.filter(kind="DDT")
        assert sorted(ddts.values_list("departement", flat=True)) == sorted(REGIONS[region])
        federations = dict(
            Partner.objects.filter(kind="FEDERATION").values_list("federation", "name")
        )
        assert set(federations) == {"oph", "esh", "coop", "epl"}
        assert Organism.objects.exclude(federation="").exists()
        assert Membership.objects.filter(partner__kind="DREAL").count() == 1
    for code in ("oph", "esh", "coop", "epl"):  # the ministry platform's alone
        with schema_context(code):
            assert not Partner.objects.filter(kind__in=["DREAL", "DDT"]).exists()
            assert not User.objects.filter(username="partenaire-dreal").exists()
