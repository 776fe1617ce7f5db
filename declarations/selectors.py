"""Who sees which dossiers."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role
from workflow.models import Dossier


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """The dossiers whose existence ``user`` may know (``DossierPolicy.can_see`` as a
    queryset): organisme users their organism's; gestionnaires all — their values only as
    the policy allows; others none here (partners read what was transmitted to them,
    through their own screens)."""
    dossiers = Dossier.objects.select_related(
        "organism", "campaign", "document_type", "form_version"
    )
    if user.role == Role.GESTIONNAIRE:
        return dossiers
    if user.role == Role.ORGANISME:
        membership = getattr(user, "membership", None)
        if membership is not None and membership.organism_id:
            return dossiers.filter(organism_id=membership.organism_id)
    return dossiers.none()
