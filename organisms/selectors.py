"""Who sees which organisms. Every registry read goes through here."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role
from organisms.models import Organism, Partner


def user_organism(user) -> Organism | None:
    membership = getattr(user, "membership", None)
    return membership.organism if membership else None


def user_partner(user) -> Partner | None:
    membership = getattr(user, "membership", None)
    return membership.partner if membership else None


def organisms_visible_to(user) -> QuerySet[Organism]:
    """Gestionnaires see the registry; an organisme user its own organism; a préfecture
    (or DDT) its département; other partners the active organisms; anyone else nothing."""
    organisms = Organism.objects.all()
    if not user.is_authenticated:
        return organisms.none()
    if user.role == Role.GESTIONNAIRE:
        return organisms
    if user.role == Role.ORGANISME:
        organism = user_organism(user)
        return organisms.filter(pk=organism.pk) if organism else organisms.none()
    if user.role == Role.PARTENAIRE:
        partner = user_partner(user)
        if partner is None:
            return organisms.none()
        if partner.departement:
            return organisms.active().filter(departement=partner.departement)
        return organisms.active()
    return organisms.none()
