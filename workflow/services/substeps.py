"""The platform's fiabilisation sub-steps (sous-étapes de l'étape 4): add, edit, delete.

The only write path for sub-steps (the gestionnaire's screen at ``/campagnes/sous-etapes/``
calls it; the Wagtail admin only lists them). Each write is journalled in Wagtail's log.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from wagtail.log_actions import log

from accounts.models import Role
from workflow.models import FiabilisationStep

EDITABLE = ("code", "label", "position")
MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme configure les sous-étapes."
MSG_IN_USE = (
    "La sous-étape {code} est celle de dossiers en cours : déplacez-les avant de la supprimer."
)


class SubstepInUse(Exception):
    """Dossiers are in this sub-step: it stays."""


def _check_gestionnaire(acting_user) -> None:
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)


def _journal(substep, action: str, acting_user, **data) -> None:
    log(
        instance=substep,
        action=action,
        user=acting_user,
        data={"code": substep.code, "label": substep.label, **data},
        deleted=action == "harmonia.substep_deleted",
    )


def substep_create(*, values: dict, acting_user) -> FiabilisationStep:
    """A new sub-step; raises ValidationError (a code already used…) and saves nothing."""
    _check_gestionnaire(acting_user)
    substep = FiabilisationStep(**{k: v for k, v in values.items() if k in EDITABLE})
    substep.full_clean()
    with transaction.atomic():
        substep.save()
        _journal(substep, "harmonia.substep_created", acting_user, position=substep.position)
    return substep


def substep_update(*, substep: FiabilisationStep, values: dict, acting_user) -> FiabilisationStep:
    _check_gestionnaire(acting_user)
    with transaction.atomic():
        locked = FiabilisationStep.objects.select_for_update().get(pk=substep.pk)
        changes = {
            name: [getattr(locked, name), value]
            for name, value in values.items()
            if name in EDITABLE and getattr(locked, name) != value
        }
        for name, (_, value) in changes.items():
            setattr(locked, name, value)
        locked.full_clean()
        if changes:
            locked.save(update_fields=list(changes))
            _journal(locked, "harmonia.substep_updated", acting_user, changes=changes)
    return locked


def substep_delete(*, substep: FiabilisationStep, acting_user) -> None:
    """Delete a sub-step no dossier is in; raises :class:`SubstepInUse` otherwise."""
    _check_gestionnaire(acting_user)
    try:
        with transaction.atomic():
            # the row lock waits for a dossier being moved into it at this moment
            locked = FiabilisationStep.objects.select_for_update().get(pk=substep.pk)
            if locked.dossiers.exists():
                raise SubstepInUse(MSG_IN_USE.format(code=locked.code))
            _journal(locked, "harmonia.substep_deleted", acting_user)
            locked.delete()
    except ProtectedError as exc:
        raise SubstepInUse(MSG_IN_USE.format(code=substep.code)) from exc
