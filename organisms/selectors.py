"""Who sees which organisms. Every registry read goes through here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Role
from organisms.models import Organism, Partner


def user_organism(user) -> Organism | None:
    membership = getattr(user, "membership", None)
    return membership.organism if membership else None


def user_partner(user) -> Partner | None:
    membership = getattr(user, "membership", None)
    return membership.partner if membership else None


# Which organisms a partner concerns — decided here only, in both directions (the organisms
# of a partner; the partners of an organism): what it receives and what it may read follow.
NOTHING = Q(pk__in=[])


def partner_organisms(partner: Partner, prefix: str = "") -> Q:
    """The organisms ``partner`` concerns, as a filter on organisms (``prefix``: the path to
    an organism from the model filtered, e.g. ``"dossier__organism__"``): every organism for
    the national partners, its département for a préfecture or a DDT, its region's
    départements for a DREAL, its members for a federation; nothing once deactivated."""
    if not partner.is_active:
        return NOTHING
    if partner.kind in Partner.LOCAL_KINDS:
        return Q(**{f"{prefix}departement": partner.departement})
    if partner.kind == Partner.Kind.DREAL:
        return Q(**{f"{prefix}departement__in": partner.departements})
    if partner.kind == Partner.Kind.FEDERATION:
        if not partner.federation:
            return NOTHING
        return Q(**{f"{prefix}federation": partner.federation})
    return Q()


def partners_of(organism: Organism) -> Q:
    """The partners that concern ``organism``, as a filter on partners: the converse of
    :func:`partner_organisms` (the active partners only)."""
    concerning = (
        Q(kind__in=Partner.NATIONAL_KINDS)
        | Q(kind__in=Partner.LOCAL_KINDS, departement=organism.departement)
        | Q(kind=Partner.Kind.DREAL, departements__contains=[organism.departement])
    )
    if organism.federation:
        concerning |= Q(kind=Partner.Kind.FEDERATION, federation=organism.federation)
    return Q(is_active=True) & concerning


def organisms_visible_to(user) -> QuerySet[Organism]:
    """Gestionnaires see the registry; an organisme user its own organism; a partner user
    the active organisms its partner concerns; anyone else nothing."""
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
        return organisms.active().filter(partner_organisms(partner))
    return organisms.none()
