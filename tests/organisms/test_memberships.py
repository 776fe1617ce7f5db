"""Binding accounts to organisms: at most N active organisme users per organism.

``membership_bind`` reads the limit from ``connection.tenant``. Under a request that is the
Platform (django-tenants' middleware calls ``set_tenant``); ``schema_context`` only sets a
``FakeTenant`` (a schema name, no model fields), so these tests use ``tenant_context``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Role, User
from organisms.models import Membership, Organism, Partner
from organisms.services import TooManyOrganismUsers, membership_bind
from organisms.services.memberships import MembershipError

pytestmark = pytest.mark.django_db


def new_user(username: str, role: str = Role.ORGANISME, *, is_active: bool = True) -> User:
    return User.objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password="Un-Mot-De-Passe-Solide-42",
        role=role,
        is_active=is_active,
    )


def first_demo_organism(code: str, demo_user) -> Organism:
    return demo_user(code, "organisme").membership.organism


@pytest.mark.parametrize("code", ["dhup", "oph", "esh", "coop", "epl"])
def test_demo_binds_two_users_to_the_first_organism(platforms, demo_user, code):
    organism = first_demo_organism(code, demo_user)
    assert demo_user(code, "organisme2").membership.organism == organism
    with schema_context(platforms[code].schema_name):
        assert sorted(
            Membership.objects.filter(organism=organism).values_list("user__username", flat=True)
        ) == ["organisme", "organisme2"]


def test_default_limit_is_three_active_users(platforms, demo_user, settings):
    assert settings.HARMONIA_MAX_USERS_PER_ORGANISM == 3
    platform = platforms["oph"]
    assert platform.max_users_per_organism is None
    assert platform.user_limit_per_organism == 3
    organism = first_demo_organism("oph", demo_user)

    with tenant_context(platform):
        third = new_user("troisieme")
        membership = membership_bind(user=third, organism=organism)
        assert membership.organism == organism

        fourth = new_user("quatrieme")
        with pytest.raises(TooManyOrganismUsers) as error:
            membership_bind(user=fourth, organism=organism)
        assert str(error.value) == (
            f"L'organisme {organism} a déjà 3 comptes utilisateurs, le maximum sur cette "
            "plateforme : désactivez un compte existant avant d'en créer un autre."
        )
        assert not Membership.objects.filter(user=fourth).exists()
        assert Membership.objects.filter(organism=organism).count() == 3


def test_rebinding_a_member_at_the_limit_is_allowed(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with tenant_context(platforms["oph"]):
        membership_bind(user=new_user("troisieme"), organism=organism)
        member = User.objects.get(username="organisme")
        # Saving an existing member again does not count it twice.
        assert membership_bind(user=member, organism=organism).organism == organism
        assert Membership.objects.filter(organism=organism).count() == 3


def test_an_inactive_user_does_not_count(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with tenant_context(platforms["oph"]):
        membership_bind(user=new_user("troisieme"), organism=organism)
        User.objects.filter(username="organisme2").update(is_active=False)

        fourth = new_user("quatrieme")
        membership_bind(user=fourth, organism=organism)
        assert Membership.objects.filter(organism=organism, user__is_active=True).count() == 3

        with pytest.raises(TooManyOrganismUsers):
            membership_bind(user=new_user("cinquieme"), organism=organism)


def test_an_inactive_user_can_be_bound_beyond_the_limit(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with tenant_context(platforms["oph"]):
        membership_bind(user=new_user("troisieme"), organism=organism)
        dormant = new_user("en-sommeil", is_active=False)
        assert membership_bind(user=dormant, organism=organism).organism == organism
        assert Membership.objects.filter(organism=organism).count() == 4
        assert Membership.objects.filter(organism=organism, user__is_active=True).count() == 3


def test_the_limit_is_per_organism(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with tenant_context(platforms["oph"]):
        membership_bind(user=new_user("troisieme"), organism=organism)
        other = Organism.objects.exclude(pk=organism.pk).order_by("siren").first()
        for n in range(3):
            membership_bind(user=new_user(f"autre-{n}"), organism=other)
        with pytest.raises(TooManyOrganismUsers):
            membership_bind(user=new_user("autre-3"), organism=other)


def test_the_platform_setting_overrides_the_default(platforms, demo_user):
    platform = platforms["oph"]
    platform.max_users_per_organism = 5
    platform.save(update_fields=["max_users_per_organism"])  # rolled back with the test
    organism = first_demo_organism("oph", demo_user)

    with tenant_context(platform):
        assert connection.tenant.user_limit_per_organism == 5
        for n in range(3):
            membership_bind(user=new_user(f"membre-{n}"), organism=organism)
        assert Membership.objects.filter(organism=organism).count() == 5
        with pytest.raises(TooManyOrganismUsers, match="a déjà 5 comptes utilisateurs"):
            membership_bind(user=new_user("sixieme"), organism=organism)

    # Another platform keeps the default.
    esh_organism = first_demo_organism("esh", demo_user)
    with tenant_context(platforms["esh"]):
        membership_bind(user=new_user("troisieme"), organism=esh_organism)
        with pytest.raises(TooManyOrganismUsers, match="a déjà 3 comptes utilisateurs"):
            membership_bind(user=new_user("quatrieme"), organism=esh_organism)


def test_a_lower_platform_limit_refuses_a_third_user(platforms, demo_user):
    platform = platforms["dhup"]
    platform.max_users_per_organism = 2
    organism = first_demo_organism("dhup", demo_user)
    with (
        tenant_context(platform),
        pytest.raises(TooManyOrganismUsers, match="a déjà 2 comptes utilisateurs"),
    ):
        membership_bind(user=new_user("troisieme"), organism=organism)


def test_an_organisme_user_needs_an_organism(platforms):
    with tenant_context(platforms["oph"]):
        user = new_user("sans-organisme")
        with pytest.raises(MembershipError) as error:
            membership_bind(user=user)
        assert str(error.value) == "Un compte « organisme » doit être rattaché à un organisme."
        partner = Partner.objects.get(kind="CDC")
        with pytest.raises(MembershipError):
            membership_bind(user=user, partner=partner)
        assert not Membership.objects.filter(user=user).exists()


def test_a_partner_user_needs_a_partner_and_other_roles_are_not_bound(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with tenant_context(platforms["oph"]):
        partner_user = new_user("sans-partenaire", Role.PARTENAIRE)
        with pytest.raises(MembershipError, match="rattaché à un partenaire"):
            membership_bind(user=partner_user)
        partner = Partner.objects.get(kind="CDC")
        assert membership_bind(user=partner_user, partner=partner).partner == partner

        gestionnaire = new_user("un-gestionnaire", Role.GESTIONNAIRE)
        with pytest.raises(MembershipError, match="Seuls les comptes organisme et partenaire"):
            membership_bind(user=gestionnaire, organism=organism)


def test_membership_bind_under_schema_context(platforms, demo_user):
    organism = first_demo_organism("oph", demo_user)
    with schema_context(platforms["oph"].schema_name):
        membership_bind(user=new_user("troisieme"), organism=organism)
        with pytest.raises(TooManyOrganismUsers):
            membership_bind(user=new_user("quatrieme"), organism=organism)
