"""The demo data, at the sizes of the real service, shared by SIREN between platforms."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import PLATFORM_ROLES, PUBLIC_ROLES, Role, User
from organisms.demo import (
    DEMO_EXERCISE,
    FEDERATION_FAMILY,
    FEDERATION_SIZES,
    MINISTRY_FAMILIES,
    demo_organisms,
)
from organisms.models import Membership, Organism, Partner
from organisms.siren import DEPARTEMENTS, siren_error
from workflow.models import Campaign

pytestmark = pytest.mark.django_db

SIZES = {"dhup": 829, "coop": 164, "esh": 172, "oph": 187, "epl": 112}
DEMO_USERS = {
    "gestionnaire": Role.GESTIONNAIRE,
    "organisme": Role.ORGANISME,
    "organisme2": Role.ORGANISME,
    "partenaire-cdc": Role.PARTENAIRE,
    "partenaire-prefecture": Role.PARTENAIRE,
    "editeur": Role.EDITEUR,
}


def organisms_of(code: str) -> dict[str, tuple[str, str, str]]:
    with schema_context(code):
        return {
            siren: (name, family, departement)
            for siren, name, family, departement in Organism.objects.values_list(
                "siren", "name", "family", "departement"
            )
        }


def test_the_demo_sizes_are_those_of_the_service():
    assert MINISTRY_FAMILIES == {
        "COOP": 167, "ESH": 174, "OPH": 179, "EPL": 109, "MOI": 190, "SAC": 6, "GROUPE": 4,
    }  # fmt: skip
    assert sum(MINISTRY_FAMILIES.values()) == SIZES["dhup"]
    federations = {code: size for code, size in SIZES.items() if code != "dhup"}
    assert federations == FEDERATION_SIZES


def test_the_platforms_are_the_five_expected(platforms):
    assert list(platforms) == ["dhup", "oph", "esh", "coop", "epl"]


@pytest.mark.parametrize(("code", "size"), SIZES.items())
def test_each_platform_has_its_demo_organisms(platforms, code, size):
    with schema_context(platforms[code].schema_name):
        assert Organism.objects.count() == size
        assert Organism.objects.filter(is_active=False).count() == 0


def test_the_ministry_has_every_family_at_its_size(platforms):
    with schema_context(platforms["dhup"].schema_name):
        per_family = Counter(Organism.objects.values_list("family", flat=True))
    assert per_family == Counter(MINISTRY_FAMILIES)
    assert {"SAC", "GROUPE"} <= set(per_family)  # the ER SAC and ER Groupes have filers


@pytest.mark.parametrize("code", ["oph", "esh", "coop", "epl"])
def test_a_federation_gathers_its_family_and_a_few_sac(platforms, code):
    family = FEDERATION_FAMILY[code]
    with schema_context(platforms[code].schema_name):
        per_family = Counter(Organism.objects.values_list("family", flat=True))
    members = min(FEDERATION_SIZES[code], MINISTRY_FAMILIES[family])
    expected = {family: members}
    if FEDERATION_SIZES[code] > members:
        expected["SAC"] = FEDERATION_SIZES[code] - members
    assert per_family == Counter(expected)


@pytest.mark.parametrize("code", SIZES)
def test_every_demo_siren_and_departement_is_valid(platforms, code):
    for siren, (_name, _family, departement) in organisms_of(code).items():
        assert siren_error(siren) is None, siren
        assert departement in DEPARTEMENTS, (siren, departement)


def test_demo_names_are_unique_on_each_platform(platforms):
    for code in SIZES:
        names = [name for name, _, _ in organisms_of(code).values()]
        assert len(names) == len(set(names)), code


@pytest.mark.parametrize("code", ["oph", "esh", "coop", "epl"])
def test_federation_members_share_their_siren_with_the_ministry(platforms, code):
    family = FEDERATION_FAMILY[code]
    ministry = organisms_of("dhup")
    federation = organisms_of(code)

    members = {s: o for s, o in federation.items() if o[1] == family}
    # Every member of the federation's family is on dhup, same SIREN, name, département.
    assert {s: ministry.get(s) for s in members} == members
    # The coordination companies (SAC) are the federation's own.
    assert not {s for s, o in federation.items() if o[1] == "SAC"} & set(ministry)
    # A federation holds the first N of the ministry's family, all of them when N is larger.
    ministry_family = {s for s, o in ministry.items() if o[1] == family}
    if FEDERATION_SIZES[code] >= MINISTRY_FAMILIES[family]:
        assert ministry_family == set(members)
    else:
        assert set(members) < ministry_family


def test_every_oph_of_the_ministry_is_on_the_oph_platform(platforms):
    ministry_oph = {s: o for s, o in organisms_of("dhup").items() if o[1] == "OPH"}
    oph = organisms_of("oph")
    assert len(ministry_oph) == 179
    for siren, organism in ministry_oph.items():
        assert oph.get(siren) == organism


def test_federations_share_no_organism_with_each_other(platforms):
    sirens = {code: set(organisms_of(code)) for code in ("oph", "esh", "coop", "epl")}
    codes = list(sirens)
    for i, first in enumerate(codes):
        for second in codes[i + 1 :]:
            assert not sirens[first] & sirens[second], (first, second)


def test_the_demo_generator_is_deterministic_and_matches_the_database(platforms):
    generated = demo_organisms()
    assert generated == demo_organisms()
    assert {code: len(orgs) for code, orgs in generated.items()} == SIZES
    for code, orgs in generated.items():
        assert {o.siren: (o.name, o.family, o.departement) for o in orgs} == organisms_of(code)


@pytest.mark.parametrize("code", SIZES)
def test_demo_users_exist_for_every_role(platforms, code):
    with schema_context(platforms[code].schema_name):
        users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
        assert {name: u.role for name, u in users.items()} == DEMO_USERS
        assert {u.role for u in users.values()} == set(PLATFORM_ROLES)
        assert all(u.is_active for u in users.values())
        assert users["gestionnaire"].groups.exists()
        memberships = {
            m.user.username: m
            for m in Membership.objects.select_related("user", "organism", "partner")
        }
        first = demo_organisms()[code][0]
        assert memberships["organisme"].organism.siren == first.siren
        assert memberships["organisme2"].organism.siren == first.siren
        assert memberships["partenaire-cdc"].partner.kind == Partner.Kind.CDC
        prefecture = memberships["partenaire-prefecture"].partner
        assert prefecture.kind == Partner.Kind.PREFECTURE
        assert prefecture.departement == first.departement
        assert "gestionnaire" not in memberships
        assert "editeur" not in memberships
        # the ministry's declarants of the MOI and EPL families, and of the first OPH and ESH
        # (the organisms of the oph and esh platforms' « organisme »); nowhere else
        names = ("organisme-moi", "organisme-epl", "organisme-oph", "organisme-esh")
        others = {name: memberships[name].organism.family for name in names if name in memberships}
        assert others == (
            {
                "organisme-moi": "MOI",
                "organisme-epl": "EPL",
                "organisme-oph": "OPH",
                "organisme-esh": "ESH",
            }
            if code == "dhup"
            else {}
        )
        if code == "dhup":
            for family, federation in (("OPH", "oph"), ("ESH", "esh")):
                mine = memberships[f"organisme-{family.lower()}"].organism.siren
                assert mine == demo_organisms()[federation][0].siren


def test_public_demo_users_exist_for_every_operator_role(platforms):
    with schema_context("public"):
        roles = dict(
            User.objects.filter(username__in=["hotline", "maintenance", "cglls"]).values_list(
                "username", "role"
            )
        )
    assert roles == {
        "hotline": Role.HOTLINE,
        "maintenance": Role.MAINTENANCE,
        "cglls": Role.CGLLS,
    }
    assert set(roles.values()) == set(PUBLIC_ROLES)


@pytest.mark.parametrize("code", SIZES)
def test_one_open_campaign_for_2024_per_platform(platforms, code):
    with schema_context(platforms[code].schema_name):
        campaigns = list(Campaign.objects.filter(exercise=DEMO_EXERCISE))
        assert len(campaigns) == 1
        campaign = campaigns[0]
        assert campaign.is_open
        assert Campaign.objects.open_on(timezone.localdate()).filter(pk=campaign.pk).exists()
        assert campaign.opened_by.username == "gestionnaire"
        assert campaign.document_types.exists()


def test_the_demo_correspondent_follows_the_ministry_platform(db):
    """Added by the operator's space on the demo loader's signal (organisms.signals)."""
    from operations.models import Correspondent

    with schema_context("public"):
        correspondent = Correspondent.objects.get(user__username="correspondant")
        assert correspondent.platforms == ["dhup"]
        assert correspondent.user.role == Role.CORRESPONDANT
