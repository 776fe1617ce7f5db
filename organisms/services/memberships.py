"""Bind platform accounts to what they act for (organism or partner)."""

from __future__ import annotations

from django.db import connection, transaction

from accounts.models import Role
from organisms.models import Membership, Organism, Partner
from tenants.models import Platform

MSG_TOO_MANY = (
    "L'organisme {organism} a déjà {limit} comptes utilisateurs, le maximum sur cette "
    "plateforme : désactivez un compte existant avant d'en créer un autre."
)
MSG_ROLE_NEEDS_ORGANISM = "Un compte « organisme » doit être rattaché à un organisme."
MSG_ROLE_NEEDS_PARTNER = "Un compte « partenaire » doit être rattaché à un partenaire."
MSG_NO_BINDING = "Seuls les comptes organisme et partenaire sont rattachés."


def current_platform() -> Platform:
    """The platform of the connection's schema (``schema_context`` sets only a stand-in)."""
    tenant = connection.tenant
    if isinstance(tenant, Platform):
        return tenant
    return Platform.objects.get(schema_name=connection.schema_name)


class TooManyOrganismUsers(Exception):
    pass


class MembershipError(ValueError):
    pass


def membership_bind(
    *, user, organism: Organism | None = None, partner: Partner | None = None
) -> Membership:
    """Attach ``user`` to its organism or partner, enforcing the per-organism account limit."""
    if user.role == Role.ORGANISME and organism is None:
        raise MembershipError(MSG_ROLE_NEEDS_ORGANISM)
    if user.role == Role.PARTENAIRE and partner is None:
        raise MembershipError(MSG_ROLE_NEEDS_PARTNER)
    if user.role not in (Role.ORGANISME, Role.PARTENAIRE):
        raise MembershipError(MSG_NO_BINDING)
    with transaction.atomic():
        if organism is not None:
            # Lock the organism so two concurrent creations cannot both pass the check.
            Organism.objects.select_for_update().get(pk=organism.pk)
            limit = current_platform().user_limit_per_organism
            active = (
                Membership.objects.filter(organism=organism, user__is_active=True)
                .exclude(user=user)
                .count()
            )
            if user.is_active and active >= limit:
                raise TooManyOrganismUsers(MSG_TOO_MANY.format(organism=organism, limit=limit))
        membership, _ = Membership.objects.update_or_create(
            user=user, defaults={"organism": organism, "partner": partner}
        )
    return membership
