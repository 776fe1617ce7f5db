"""An organism's deadline facts (accounting regime, closing day, federation) as a gestionnaire
corrects them on the organism's page, between two registry imports (which may set them too).
Name, family and département stay the registry's."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from wagtail.log_actions import log

from accounts.models import Role
from organisms.models import Organism

EDITABLE = ("accounting", "closing", "federation")
MSG_ROLE = "Seul un gestionnaire de la plateforme corrige les données d'un organisme."
MSG_ACCOUNTING_OPH = "Le régime comptable ne se précise que pour un OPH."


def organism_facts_update(*, organism: Organism, values: dict, acting_user) -> Organism:
    """Apply ``values`` (of EDITABLE); raises ValidationError naming the field, saves nothing."""
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ROLE)
    with transaction.atomic():
        locked = Organism.objects.select_for_update().get(pk=organism.pk)
        changes = {
            name: [getattr(locked, name), values[name]]
            for name in EDITABLE
            if name in values and getattr(locked, name) != values[name]
        }
        for name, (_, new) in changes.items():
            setattr(locked, name, new)
        if locked.accounting and locked.family != "OPH":
            raise ValidationError({"accounting": MSG_ACCOUNTING_OPH})
        locked.full_clean()
        if changes:
            locked.save(update_fields=[*changes, "updated_at"])
            log(
                instance=locked,
                action="harmonia.organism_facts_updated",
                user=acting_user,
                data={"siren": locked.siren, "changes": changes},
            )
    return locked
