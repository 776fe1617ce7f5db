"""Which organisms a partner concerns: the regions' catalogue, and the two directions of the one
rule (the organisms of a partner, the partners of an organism) agreeing for every kind."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from accounts.models import Role, User
from organisms.models import Membership, Organism, Partner
from organisms.regions import REGIONS, region_of
from organisms.selectors import organisms_visible_to, partner_organisms, partners_of
from organisms.siren import DEPARTEMENTS


def test_every_departement_is_in_exactly_one_region():
    counts = Counter(code for codes in REGIONS.values() for code in codes)
    assert set(counts) == set(DEPARTEMENTS)
    assert set(counts.values()) == {1}
    assert len(REGIONS) == 18
    assert region_of("69") == "Auvergne-Rhône-Alpes" and region_of("2A") == "Corse"
    assert region_of("99") is None


def concerned_by(partner: Partner) -> set[str]:
    return set(Organism.objects.filter(partner_organisms(partner)).values_list("siren", flat=True))


def concerning(partner: Partner) -> set[str]:
    """The same, asked the other way: the organisms for which the partner is among theirs."""
    return {
        o.siren
        for o in Organism.objects.all()
        if Partner.objects.filter(partners_of(o)).filter(pk=partner.pk).exists()
    }


@pytest.mark.django_db
def test_both_directions_agree_for_every_kind(demo_user):
    first = demo_user("dhup", "organisme").membership.organism  # the demo's DREAL is its region's
    with schema_context("dhup"):
        region = region_of(first.departement)
        dreal = Partner.objects.get(kind="DREAL")
        samples = [
            Partner.objects.get(kind="CDC"),
            Partner.objects.get(kind="PREFECTURE", departement=first.departement),
            Partner.objects.filter(kind="DDT").first(),
            dreal,
            *Partner.objects.filter(kind="FEDERATION"),
        ]
        expected = {
            "CDC": set(Organism.objects.values_list("siren", flat=True)),
            "DREAL": set(
                Organism.objects.filter(departement__in=REGIONS[dreal.region]).values_list(
                    "siren", flat=True
                )
            ),
        }
        for partner in samples:
            sirens = concerned_by(partner)
            assert sirens, partner  # else the test proves little
            assert sirens == concerning(partner), partner
            if partner.kind in expected:
                assert sirens == expected[partner.kind]
            elif partner.kind == "FEDERATION":
                members = Organism.objects.filter(federation=partner.federation)
                assert sirens == set(members.values_list("siren", flat=True))
                assert set(members.values_list("family", flat=True)) == {
                    {"oph": "OPH", "esh": "ESH", "coop": "COOP", "epl": "EPL"}[partner.federation]
                }
            else:  # a préfecture, a DDT: one département
                departements = Organism.objects.filter(siren__in=sirens).values("departement")
                assert {d["departement"] for d in departements} == {partner.departement}
        assert region and dreal.departements == list(REGIONS[region])
        # deactivated: nothing, both ways
        dreal.is_active = False
        dreal.save()
        assert concerned_by(dreal) == set() == concerning(dreal)


@pytest.mark.django_db
def test_a_dreal_user_sees_the_active_organisms_of_its_region(demo_user):
    user = demo_user("dhup", "partenaire-dreal")
    dreal = user.membership.partner
    with schema_context("dhup"):
        region = Organism.objects.filter(departement__in=dreal.departements)
        hidden = region.order_by("siren").first()
        Organism.objects.filter(pk=hidden.pk).update(is_active=False)
        expected = set(region.filter(is_active=True).values_list("siren", flat=True))
        assert Organism.objects.exclude(departement__in=dreal.departements).exists()
        assert set(organisms_visible_to(user).values_list("siren", flat=True)) == expected


@pytest.mark.django_db
def test_a_federation_without_its_code_concerns_no_organism(platforms):
    with schema_context("dhup"):
        partner = Partner.objects.create(name="Fédération sans code", kind="FEDERATION")
        user = User.objects.create_user(
            username="federation-sans-code", email="fsc@example.org", role=Role.PARTENAIRE
        )
        Membership.objects.create(user=user, partner=partner)
        assert concerned_by(partner) == set()
        assert not organisms_visible_to(user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "DREAL"},  # no département
        {"kind": "DDT"},
        {"kind": "PREFECTURE"},
        {"kind": "CDC", "departement": "69"},
        {"kind": "DDT", "departement": "69", "departements": ["69"]},
        {"kind": "CDC", "federation": "oph"},
    ],
)
def test_the_database_refuses_a_partner_its_kind_does_not_allow(platforms, fields):
    """The services refuse these with a message (tests/partners/test_partner_administration.py);
    the database holds the rule for any other writer."""
    with schema_context("dhup"), pytest.raises(IntegrityError), transaction.atomic():
        Partner.objects.create(name="Partenaire incohérent", **fields)
