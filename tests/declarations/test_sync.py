"""« Rapatrier » : the tronc commun bridge between the ministry and a federation platform,
open only to the account the organism named on the source platform (the pairing)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from declarations.models import TroncCommunEvent, TroncCommunPairing
from declarations.services import dossier_open, dossier_values_save
from declarations.services.pairing import (
    MSG_ALREADY_ACTIVE,
    MSG_ALREADY_REVOKED,
    MSG_EMAIL_EMPTY,
    MSG_EMAIL_INVALID,
    PairingRefused,
    tc_pairing_grant,
    tc_pairing_revoke,
)
from declarations.services.sync import (
    MSG_NOT_PAIRED,
    NothingToSync,
    PullRefused,
    dossier_sync,
    sync_preview,
)
from forms_cms.models import DocumentType
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.models import Campaign, Dossier, ValueChange

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import upload
from ..helpers import without_tokens

pytestmark = pytest.mark.django_db

CLOSING = dt.date(2024, 12, 31)
# the ER and the QDIS share TC_CAPITAL, TC_STOCKS and TC_CLOTURE (a date); each has fields of
# its own
ER = (
    {
        "S": {
            "A1": "Capital",
            "B1": 0,
            "A2": "Stocks",
            "B2": 0,
            "B3": 0,
            "B4": "=B1+B2",
            "A5": "Clôture",
            "B5": CLOSING,
        }
    },
    {
        "TC_CAPITAL": "S!$B$1",
        "TC_STOCKS": "S!$B$2",
        "ER_SEUL": "S!$B$3",
        "TOTAL": "S!$B$4",
        "TC_CLOTURE": "S!$B$5",
    },
)
QDIS = ({"Q": {"A1": "Capital", "B1": 0, "A2": "Stocks", "B2": 0, "B3": 0,
               "A4": "Clôture", "B4": CLOSING}},
        {"TC_CAPITAL": "Q!$B$1", "TC_STOCKS": "Q!$B$2", "QDIS_SEUL": "Q!$B$3",
         "TC_CLOTURE": "Q!$B$4"})  # fmt: skip
ER_LABEL = "États réglementaires — comptes sociaux"
GRANT_TO_FEDERATION = "Autoriser la fédération à rapatrier mon tronc commun"


@pytest.fixture
def pair(demo_user):
    """The oph organisme user's organism, with its QDIS on oph (capital and closing date
    typed) and its ER on dhup (capital and stocks, no closing date)."""
    upload("dhup", workbook_bytes(*ER), user=demo_user("dhup", "gestionnaire"))
    upload("oph", workbook_bytes(*QDIS), user=demo_user("oph", "gestionnaire"), document="QDIS_OPH")
    user = demo_user("oph", "organisme")
    siren = user.membership.organism.siren
    with schema_context("dhup"):
        organism = Organism.objects.get(siren=siren)
        version = DocumentType.objects.get(code="ER_SOCIAUX").versions.get()
        values = {"TC_CAPITAL": 1000.0, "TC_STOCKS": 50.0, "ER_SEUL": 7.0}
        er = Dossier.objects.create(
            organism=organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=version.document_type,
            form_version=version,
            values=values,
            computed=dossier_evaluate(compiled_form(version), values),
        )
    with schema_context("oph"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_OPH"),
            acting_user=user,
        )
        dossier_values_save(
            dossier=qdis,
            entries={"TC_CAPITAL": "900", "QDIS_SEUL": "3", "TC_CLOTURE": "31/12/2024"},
            acting_user=user,
        )
    return user, qdis, er


@pytest.fixture
def er_owner(pair, demo_user):
    """A dhup organisme user of the ER's organism (the same SIREN as the oph user's)."""
    _, _, er = pair
    owner = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        owner.membership.organism = er.organism
        owner.membership.save()
    return owner


@pytest.fixture
def paired(pair, er_owner):
    """The organism allowed its oph account to pull its ER, on dhup."""
    user, _, er = pair
    with schema_context("dhup"):
        pairing = tc_pairing_grant(dossier=er, account_email=user.email, acting_user=er_owner)
    return pairing


def events(code: str, dossier) -> list[tuple]:
    with schema_context(code):
        return list(
            TroncCommunEvent.objects.filter(dossier_id=dossier.pk)
            .order_by("pk")
            .values_list("kind", "other_platform", "account_email", "acting_user__username")
        )


def stored(code: str, dossier) -> dict:
    with schema_context(code):
        dossier.refresh_from_db()
        return dict(dossier.values)


class _Boxes(HTMLParser):
    """The checkboxes of a page: (name, ticked), ``champ`` (bring a value) then ``effacer``."""

    def __init__(self):
        super().__init__()
        self.boxes: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "checkbox":
            prefix = "" if attrs.get("name") == "champ" else f"{attrs.get('name')}:"
            self.boxes.append((prefix + attrs["value"], "checked" in attrs))


def boxes(html: str) -> list[tuple[str, bool]]:
    parser = _Boxes()
    parser.feed(html)
    return parser.boxes


# the pull needs the organism's consent --------------------------------------------------------


def test_without_the_pairing_nothing_is_read(pair):
    user, qdis, er = pair
    with schema_context("oph"), pytest.raises(PullRefused) as refused:
        sync_preview(dossier=qdis, acting_user=user)
    assert str(refused.value) == MSG_NOT_PAIRED.format(
        platform="Ministère (DHUP)",
        document=ER_LABEL,
        exercise=2024,
        grant=GRANT_TO_FEDERATION,
        email=user.email,
    )
    with schema_context("oph"), pytest.raises(PullRefused):
        dossier_sync(dossier=qdis, acting_user=user)
    assert stored("oph", qdis)["TC_CAPITAL"] == 900.0 and "TC_STOCKS" not in stored("oph", qdis)
    # journaled on both platforms: here by whom, there which account of oph tried
    refused = TroncCommunEvent.Kind.REFUSED
    assert events("oph", qdis) == [(refused, "dhup", "", user.username)] * 2
    assert events("dhup", er) == [(refused, "oph", user.email, None)] * 2


def test_the_refusal_page_says_what_to_do_and_shows_nothing_of_the_source(pair, client_for):
    user, qdis, _ = pair
    client = client_for("oph", user)
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    page = without_tokens(client.get(url).content.decode())
    assert "Votre compte n&#x27;est pas autorisé" in page
    assert GRANT_TO_FEDERATION in page and user.email in page
    assert "1 000" not in page and "50" not in page and "TC_CAPITAL" not in page
    response = client.post(url, {"champ": ["TC_CAPITAL", "TC_STOCKS"]})
    assert response.status_code == 200
    assert "Votre compte n&#x27;est pas autorisé" in response.content.decode()
    assert stored("oph", qdis)["TC_CAPITAL"] == 900.0


def test_a_pairing_for_another_account_or_platform_opens_nothing(pair, er_owner, demo_user):
    user, qdis, er = pair
    colleague = demo_user("oph", "organisme2")  # same organism on oph, not the one named
    with schema_context("dhup"):
        tc_pairing_grant(dossier=er, account_email=colleague.email, acting_user=er_owner)
        # a pairing naming the right e-mail for another platform does not open oph
        TroncCommunPairing.objects.create(
            dossier=er, platform="esh", account_email=user.email, granted_by=er_owner
        )
    with schema_context("oph"), pytest.raises(PullRefused):
        sync_preview(dossier=qdis, acting_user=user)


def test_the_account_is_matched_whatever_its_case(pair, er_owner):
    user, qdis, er = pair
    with schema_context("dhup"):
        pairing = tc_pairing_grant(
            dossier=er, account_email=f"  {user.email.upper()} ", acting_user=er_owner
        )
    assert pairing.account_email == user.email.lower()
    with schema_context("oph"):
        assert sync_preview(dossier=qdis, acting_user=user).lines


def test_preview_lists_only_common_fields_that_differ(pair, paired):
    user, qdis, _ = pair
    with schema_context("oph"):
        preview = sync_preview(dossier=qdis, acting_user=user)
    assert preview.platform == "Ministère (DHUP)"
    assert [(line.name, line.current, line.incoming) for line in preview.offered] == [
        ("TC_CAPITAL", 900.0, 1000.0),
        ("TC_STOCKS", None, 50.0),
    ]
    # the ER has no closing date: taking it would erase the one typed here
    assert [(line.name, line.incoming) for line in preview.erasing] == [("TC_CLOTURE", None)]


def test_sync_applies_and_records_a_synchronisation(pair, paired):
    user, qdis, er = pair
    with schema_context("oph"):
        dossier_sync(dossier=qdis, acting_user=user, names=["TC_CAPITAL"])
        qdis.refresh_from_db()
        assert qdis.values["TC_CAPITAL"] == 1000.0 and qdis.values["QDIS_SEUL"] == 3.0
        change = ValueChange.objects.get(dossier=qdis, source=ValueChange.Source.SYNCHRONISATION)
        assert (change.field_name, change.old_value, change.new_value) == (
            "TC_CAPITAL",
            900.0,
            1000.0,
        )
    with schema_context("dhup"):
        er.refresh_from_db()
        assert er.values["ER_SEUL"] == 7.0  # the other side is only read


def test_each_pull_is_journaled_on_both_platforms(pair, paired, er_owner):
    user, qdis, er = pair
    with schema_context("oph"):
        sync_preview(dossier=qdis, acting_user=user)
        dossier_sync(dossier=qdis, acting_user=user, names=["TC_CAPITAL"])
    granted, pulled = TroncCommunEvent.Kind.GRANTED, TroncCommunEvent.Kind.PULLED
    assert events("dhup", er) == [
        (granted, "oph", user.email, er_owner.username),
        (pulled, "oph", user.email, None),
        (pulled, "oph", user.email, None),
    ]
    assert events("oph", qdis) == [
        (granted, "dhup", er_owner.email, None),
        (pulled, "dhup", "", user.username),
        (pulled, "dhup", "", user.username),
    ]
    with schema_context("oph"):
        last = TroncCommunEvent.objects.filter(dossier_id=qdis.pk).first()
        assert last.detail == "1 valeur rapatriée, dont 0 effacée"


def test_revocation_stops_later_pulls_at_once(pair, paired, er_owner):
    user, qdis, er = pair
    with schema_context("oph"):
        assert sync_preview(dossier=qdis, acting_user=user).lines
    with schema_context("dhup"):
        tc_pairing_revoke(pairing=paired, acting_user=er_owner)
    with schema_context("oph"), pytest.raises(PullRefused):
        dossier_sync(dossier=qdis, acting_user=user)
    assert stored("oph", qdis)["TC_CAPITAL"] == 900.0
    kinds = TroncCommunEvent.Kind
    assert [e[0] for e in events("dhup", er)] == [
        kinds.GRANTED, kinds.PULLED, kinds.REVOKED, kinds.REFUSED,
    ]  # fmt: skip
    assert [e[0] for e in events("oph", qdis)] == [
        kinds.GRANTED, kinds.PULLED, kinds.REVOKED, kinds.REFUSED,
    ]  # fmt: skip


def test_the_other_direction(pair, er_owner):
    user, qdis, er = pair
    with schema_context("oph"):
        tc_pairing_grant(dossier=qdis, account_email=er_owner.email, acting_user=user)
    with schema_context("dhup"):
        preview = sync_preview(dossier=er, acting_user=er_owner)
    assert [(line.name, line.incoming) for line in preview.offered] == [
        ("TC_CAPITAL", 900.0),
        ("TC_CLOTURE", 45657),
    ]
    assert [(line.name, line.incoming) for line in preview.erasing] == [("TC_STOCKS", None)]
    # the oph pairing lets dhup pull from oph, not oph from dhup
    with schema_context("oph"), pytest.raises(PullRefused):
        sync_preview(dossier=qdis, acting_user=user)


def test_only_its_own_counterpart(pair, paired):
    user, qdis, er = pair
    # the dhup dossier of the same SIREN is the only source: another SIREN finds nothing,
    # and the account is told the same as when no consent exists
    with schema_context("dhup"):
        er.organism = Organism.objects.exclude(pk=er.organism_id).filter(family="OPH").first()
        er.save()
    with schema_context("oph"), pytest.raises(PullRefused, match="n'est pas autorisé"):
        sync_preview(dossier=qdis, acting_user=user)
    # no source dossier on dhup: the refusal is journaled on the pulling side only
    assert events("oph", qdis)[-1] == (TroncCommunEvent.Kind.REFUSED, "dhup", "", user.username)
    assert [e[0] for e in events("dhup", er)] == [TroncCommunEvent.Kind.GRANTED]


def test_others_cannot_pull_into_or_from_a_dossier(pair, paired, demo_user, client_for):
    user, qdis, _ = pair
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    assert "TC_CAPITAL" in client_for("oph", user).get(url).content.decode()
    assert client_for("oph", demo_user("oph", "gestionnaire")).get(url).status_code == 403
    assert client_for("dhup", demo_user("dhup", "organisme")).get(url).status_code == 404
    response = client_for("oph", user).post(url, {"champ": ["TC_STOCKS"]})
    assert response.status_code == 302
    values = stored("oph", qdis)
    assert values["TC_STOCKS"] == 50.0 and values["TC_CAPITAL"] == 900.0


# Rapatrier never erases what was typed unless asked line by line -----------------------------


def test_sync_without_names_never_applies_an_erasing_line(pair, paired):
    user, qdis, _ = pair
    with schema_context("oph"):
        result = dossier_sync(dossier=qdis, acting_user=user)
    assert set(result.saved) == {"TC_CAPITAL", "TC_STOCKS"}
    values = stored("oph", qdis)
    assert values["TC_CLOTURE"] == 45657 and values["TC_CAPITAL"] == 1000.0


def test_an_erasing_line_applies_only_when_ticked_to_erase(pair, paired, client_for):
    user, qdis, _ = pair
    with schema_context("oph"):
        # named as if it brought a value (a preview shown before it was emptied): not applied
        result = dossier_sync(dossier=qdis, acting_user=user, names=["TC_CLOTURE"])
    assert result.saved == {} and stored("oph", qdis)["TC_CLOTURE"] == 45657
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    response = client_for("oph", user).post(url, {"effacer": ["TC_CLOTURE"]}, follow=True)
    assert "dont 1 effacée à votre demande" in response.content.decode()
    assert "TC_CLOTURE" not in stored("oph", qdis)


def test_the_preview_never_ticks_an_erasing_line(pair, paired, client_for):
    user, qdis, _ = pair
    page = client_for("oph", user).get(f"/declarations/dossiers/{qdis.pk}/rapatrier/")
    html = page.content.decode()
    assert boxes(html) == [
        ("TC_CAPITAL", True),
        ("TC_STOCKS", True),
        ("effacer:TC_CLOTURE", False),
    ]
    erasing = html[html.index('data-testid="sync-erasing"') :]
    assert "les rapatrier effacerait votre saisie" in erasing
    assert "31/12/2024" in erasing and "TC_CLOTURE" in erasing


def test_confirming_the_preview_as_shown_keeps_what_was_typed(pair, paired, client_for):
    user, qdis, _ = pair
    client = client_for("oph", user)
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    ticked = [name for name, checked in boxes(client.get(url).content.decode()) if checked]
    response = client.post(url, {"champ": ticked}, follow=True)
    assert "2 valeurs du tronc commun rapatriées" in response.content.decode()
    values = stored("oph", qdis)
    assert values["TC_CLOTURE"] == 45657  # the typed closing date stays
    assert values["QDIS_SEUL"] == 3.0 and values["TC_STOCKS"] == 50.0


def test_confirming_with_nothing_ticked_changes_nothing(pair, paired, client_for):
    user, qdis, _ = pair
    url = f"/declarations/dossiers/{qdis.pk}/rapatrier/"
    response = client_for("oph", user).post(url, {}, follow=True)
    assert "Aucune valeur rapatriée" in response.content.decode()
    assert stored("oph", qdis)["TC_CAPITAL"] == 900.0


# the pairing page -----------------------------------------------------------------------------


def pairing_url(dossier) -> str:
    return f"/declarations/dossiers/{dossier.pk}/tronc-commun/"


def test_the_owner_grants_and_revokes_through_the_page(pair, er_owner, client_for):
    user, qdis, er = pair
    client = client_for("dhup", er_owner)
    page = client.get(pairing_url(er)).content.decode()
    assert GRANT_TO_FEDERATION in page and "Fédération des OPH" in page
    response = client.post(pairing_url(er), {"action": "grant", "account_email": user.email})
    assert response.status_code == 302
    with schema_context("dhup"):
        pairing = TroncCommunPairing.objects.get(dossier=er)
    assert (pairing.platform, pairing.account_email, pairing.active) == ("oph", user.email, True)
    page = client.get(pairing_url(er)).content.decode()
    assert "Autorisation donnée" in page and 'data-testid="tc-active"' in page
    assert "autorisation donnée" in page  # the journal
    # one active consent per platform: no second form until it is withdrawn
    assert 'data-testid="tc-one-active"' in page and 'data-testid="tc-grant"' not in page
    client.post(pairing_url(er), {"action": "revoke", "pairing": pairing.pk})
    with schema_context("dhup"):
        pairing.refresh_from_db()
    assert not pairing.active and pairing.revoked_by_id == er_owner.pk
    page = client.get(pairing_url(er)).content.decode()
    assert "retirée le" in page and "autorisation retirée" in page
    assert 'data-testid="tc-grant"' in page


def test_the_pulling_side_sees_the_journal_and_how_to_get_consent(pair, paired, client_for):
    user, qdis, _ = pair
    with schema_context("oph"):
        sync_preview(dossier=qdis, acting_user=user)
    page = client_for("oph", user).get(pairing_url(qdis)).content.decode()
    assert "Autoriser la plateforme du ministère à rapatrier mon tronc commun" in page
    journal = page[page.index('data-testid="tc-journal"') :]
    assert journal.count('data-kind="granted"') == 1 and journal.count('data-kind="pulled"') == 1


def test_only_the_dossiers_own_organisme_users_reach_the_page(
    pair, er_owner, demo_user, client_for
):
    user, _, er = pair
    url = pairing_url(er)
    assert client_for("dhup", er_owner).get(url).status_code == 200
    for username in ("gestionnaire", "partenaire-cdc", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        assert client.get(url).status_code == 403
        assert client.post(url, {"account_email": "x@example.org"}).status_code == 403
    other = demo_user("dhup", "organisme")
    assert other.membership.organism_id != er.organism_id
    assert client_for("dhup", other).get(url).status_code == 404
    assert (
        client_for("dhup", other).post(url, {"account_email": "x@example.org"}).status_code == 404
    )
    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302 and "/comptes/connexion/" in anonymous["Location"]
    # the oph account's session means nothing on the dhup host
    foreign = client_for("oph", user).get(url, HTTP_HOST="dhup.localhost")
    assert foreign.status_code == 302 and "/comptes/connexion/" in foreign["Location"]
    with schema_context("dhup"):
        assert not TroncCommunPairing.objects.exists()


def test_the_services_check_the_owner(pair, demo_user):
    user, _, er = pair
    with schema_context("dhup"), pytest.raises(PermissionDenied):
        tc_pairing_grant(
            dossier=er, account_email=user.email, acting_user=demo_user("dhup", "gestionnaire")
        )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", MSG_EMAIL_EMPTY.format(platform="Fédération des OPH")),
        ("   ", MSG_EMAIL_EMPTY.format(platform="Fédération des OPH")),
        (
            "organisme chez oph",
            MSG_EMAIL_INVALID.format(email="organisme chez oph", platform="Fédération des OPH"),
        ),
    ],
)
def test_a_bad_email_is_refused_next_to_the_field(pair, er_owner, client_for, typed, message):
    _, _, er = pair
    response = client_for("dhup", er_owner).post(
        pairing_url(er), {"action": "grant", "account_email": typed}
    )
    assert response.status_code == 200
    page = response.content.decode()
    field = page[page.index('id="id_account_email"') :]
    assert message.replace("'", "&#x27;") in field[: field.index("</div>", field.index("error"))]
    with schema_context("dhup"):
        assert not TroncCommunPairing.objects.exists()
        assert not TroncCommunEvent.objects.filter(dossier=er).exists()


def test_a_second_consent_while_one_is_active_is_refused(pair, paired, er_owner, demo_user):
    _, _, er = pair
    with schema_context("dhup"):
        with pytest.raises(PairingRefused) as refused:
            tc_pairing_grant(
                dossier=er,
                account_email=demo_user("oph", "organisme2").email,
                acting_user=er_owner,
            )
        assert refused.value.message == MSG_ALREADY_ACTIVE.format(
            email=paired.account_email, platform="Fédération des OPH"
        )
        assert TroncCommunPairing.objects.filter(dossier=er).count() == 1


def test_revoking_twice_changes_nothing(pair, paired, er_owner, client_for):
    _, _, er = pair
    with schema_context("dhup"):
        tc_pairing_revoke(pairing=paired, acting_user=er_owner)
        revoked_at = paired.revoked_at
    response = client_for("dhup", er_owner).post(
        pairing_url(er), {"action": "revoke", "pairing": paired.pk}
    )
    assert MSG_ALREADY_REVOKED.replace("'", "&#x27;") in response.content.decode()
    with schema_context("dhup"):
        paired.refresh_from_db()
        assert paired.revoked_at == revoked_at
        assert TroncCommunEvent.objects.filter(dossier=er, kind="revoked").count() == 1
    # a pairing of another dossier is not found through this one
    assert (
        client_for("dhup", er_owner)
        .post(pairing_url(er), {"action": "revoke", "pairing": "abc"})
        .status_code
        == 404
    )


def test_a_dossier_without_a_federation_says_so(pair, er_owner, client_for):
    _, _, er = pair
    with schema_context("dhup"):
        moi = Organism.objects.filter(family="MOI").first()
        er_owner.membership.organism = moi
        er_owner.membership.save()
        # an MOI files the ER sociaux only where the gestionnaire opens it to other families
        DocumentType.objects.filter(code="ER_SOCIAUX").update(voluntary=True)
        dossier = dossier_open(
            organism=moi,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=er_owner,
        )
        with pytest.raises(NothingToSync):
            tc_pairing_grant(dossier=dossier, account_email="a@b.fr", acting_user=er_owner)
    page = client_for("dhup", er_owner).get(pairing_url(dossier)).content.decode()
    assert "Les organismes de la famille MOI n&#x27;ont pas de plateforme fédérale" in page
    assert 'data-testid="tc-grant"' not in page


def test_the_dossier_page_links_to_the_pairing_for_its_owners_only(pair, demo_user, client_for):
    user, qdis, _ = pair
    url = f"/declarations/dossiers/{qdis.pk}/"
    page = client_for("oph", user).get(url).content.decode()
    assert pairing_url(qdis) in page and "Ministère (DHUP)" in page
    gestionnaire = client_for("oph", demo_user("oph", "gestionnaire")).get(url)
    assert pairing_url(qdis) not in gestionnaire.content.decode()
