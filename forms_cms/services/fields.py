"""Editing a field of a form version: its label, required and common (tronc commun) flags.

The only write path for these (the gestionnaire's screen at ``/formulaires/<version>/champs/``
calls it). Besides the row it moves the version's ``fields_edited_at`` stamp, which keys the
per-process cache of :func:`forms_cms.fields.version_fields`: every worker then reads the
new label and required flag (checked before a transmission) on its next request, without
anyone clearing a cache.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log

from accounts.models import Role
from forms_cms.models import Field, FormVersion
from forms_cms.signals import send_on_commit, version_fields_changed

EDITABLE = ("label", "required", "common")
MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme peut modifier les champs."
MSG_LABEL_REQUIRED = (
    "Le libellé est obligatoire : il nomme le champ pour les organismes (écran de saisie, PDF)."
)


def field_update(*, field: Field, values: dict, acting_user) -> Field:
    """Set ``values`` (any of label, required, common) on ``field``; other keys are ignored.

    Nothing is written, stamped or journalled when nothing changes."""
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)
    wanted = {name: values[name] for name in EDITABLE if name in values}
    if "label" in wanted:
        wanted["label"] = (wanted["label"] or "").strip()
        if not wanted["label"]:
            raise ValidationError({"label": MSG_LABEL_REQUIRED})
    for flag in ("required", "common"):
        if flag in wanted:
            wanted[flag] = bool(wanted[flag])
    with transaction.atomic():
        # the version row first, as uploads and rule edits do: one edit of its fields at a time
        version = FormVersion.objects.select_for_update().get(pk=field.version_id)
        locked = Field.objects.select_for_update().get(pk=field.pk)
        changes = {
            name: [getattr(locked, name), value]
            for name, value in wanted.items()
            if getattr(locked, name) != value
        }
        if not changes:
            return locked
        for name, (_, value) in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
        version.fields_edited_at = timezone.now()
        stamped = ["fields_edited_at"]
        if "common" in changes:
            version.common_count = version.fields.filter(common=True).count()
            stamped.append("common_count")
        version.save(update_fields=stamped)
        log(
            instance=locked,
            action="harmonia.field_updated",
            user=acting_user,
            title=f"{locked.name} ({version})",
            data={"version": version.code, "field": locked.name, "changes": changes},
        )
        send_on_commit(version_fields_changed, version)
    return locked
