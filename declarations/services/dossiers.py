"""Opening a dossier and saving its values: validation, conflicts, history, recomputation."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from declarations.fields import FieldInfo, version_fields
from declarations.formats import Invalid, format_value, parse_value
from forms_cms.selectors import current_version
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from workflow.models import Dossier, Step, StepChange, ValueChange

MSG_NOT_YOURS = "Ce dossier n'est pas celui de votre organisme."
MSG_NO_VERSION = (
    "Le formulaire « {document} » de la {campaign} n'a pas encore été déposé par le "
    "gestionnaire : revenez plus tard."
)
MSG_COMPUTED = "Ce champ est calculé : sa valeur vient de sa formule."
MSG_UNKNOWN = "Ce champ n'existe pas dans ce formulaire."
MSG_CLOSED = (
    "Le dossier est à l'étape « {step} » : il ne peut plus être modifié par l'organisme "
    "(la saisie et l'import sont ouverts aux étapes 1 à 3, ou quand le gestionnaire vous rend "
    "la main)."
)
MSG_CONFLICT = (
    "Modifié entre-temps par {who} à {when} (valeur actuelle : {current}). Votre saisie n'a pas "
    "été enregistrée : vérifiez la valeur affichée puis saisissez à nouveau si besoin."
)


class NoFormVersion(Exception):
    pass


class DossierClosed(PermissionDenied):
    """The dossier is past the organism's steps: nothing is entered or imported."""


class SaveRefused(Exception):
    """Nothing was saved: ``errors`` (field → message) and ``conflicts`` (field → current)."""

    def __init__(self, errors: dict[str, str], conflicts: dict[str, object]):
        self.errors = errors
        self.conflicts = conflicts
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class SaveResult:
    saved: dict[str, object] = field(default_factory=dict)  # input fields, stored values
    computed: dict[str, object] = field(default_factory=dict)  # computed fields that changed
    revision: int = 0


def _check_owner(dossier_or_organism, acting_user) -> None:
    organism = getattr(dossier_or_organism, "organism", dossier_or_organism)
    if acting_user.role != Role.ORGANISME:
        raise PermissionDenied(MSG_NOT_YOURS)
    membership = getattr(acting_user, "membership", None)
    if membership is None or membership.organism_id != organism.pk:
        raise PermissionDenied(MSG_NOT_YOURS)


def dossier_open(*, organism, campaign, document_type, acting_user) -> Dossier:
    """The organism's dossier for this campaign and document, created on first access."""
    _check_owner(organism, acting_user)
    existing = Dossier.objects.filter(
        organism=organism, campaign=campaign, document_type=document_type
    ).first()
    if existing is not None:
        return existing
    version = current_version(document_type, campaign)
    if version is None:
        raise NoFormVersion(
            MSG_NO_VERSION.format(document=document_type.label, campaign=str(campaign).lower())
        )
    with transaction.atomic():
        dossier, _ = Dossier.objects.get_or_create(
            organism=organism,
            campaign=campaign,
            document_type=document_type,
            defaults={
                "form_version": version,
                "computed": dossier_evaluate(compiled_form(version), {}),
            },
        )
    return dossier


def _describe_last_change(dossier: Dossier, name: str) -> tuple[str, str]:
    last = (
        ValueChange.objects.filter(dossier=dossier, field_name=name)
        .select_related("changed_by")
        .first()
    )
    if last is None:
        return "un autre utilisateur", "l'instant"
    who = last.changed_by.get_full_name() or last.changed_by.username if last.changed_by else "?"
    return who, timezone.localtime(last.changed_at).strftime("%H:%M")


def dossier_values_save(
    *,
    dossier: Dossier,
    entries: dict[str, str],
    seen: dict[str, object] | None = None,
    acting_user,
    source: str = ValueChange.Source.MANUAL,
) -> SaveResult:
    """Save typed entries (field → text as typed) into the dossier, all or nothing.

    ``seen`` holds, per field, the stored value the person had on screen: if another user has
    changed it since, that field is a conflict and nothing is saved."""
    _check_owner(dossier, acting_user)
    fields = version_fields(dossier.form_version)
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for name, text in entries.items():
        info: FieldInfo | None = fields.get(name)
        if info is None:
            errors[name] = MSG_UNKNOWN
            continue
        if info.computed:
            errors[name] = MSG_COMPUTED
            continue
        value = parse_value(info.data_type, text, choices=info.choices)
        if isinstance(value, Invalid):
            errors[name] = value.message
        else:
            parsed[name] = value
    return dossier_values_apply(
        dossier=dossier,
        values=parsed,
        seen=seen,
        acting_user=acting_user,
        source=source,
        errors=errors,
    )


def dossier_values_apply(
    *,
    dossier: Dossier,
    values: dict[str, object],
    acting_user,
    source: str,
    seen: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
) -> SaveResult:
    """Write already validated stored values (input fields), record them, recompute.

    The callers check who may write (the owner for entries and imports, the counterpart
    check for a synchronisation). ``errors`` found earlier refuse the whole change."""
    errors = dict(errors or {})
    fields = version_fields(dossier.form_version)
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if not locked.accepts_entries:
            raise DossierClosed(MSG_CLOSED.format(step=locked.get_step_display()))
        conflicts = {}
        for name in values:
            if seen is not None and name in seen and seen[name] != locked.values.get(name):
                conflicts[name] = locked.values.get(name)
                who, when = _describe_last_change(locked, name)
                info = fields[name]
                errors[name] = MSG_CONFLICT.format(
                    who=who,
                    when=when,
                    current=format_value(conflicts[name], info.data_type, info.number_format)
                    or "vide",
                )
        if errors:
            raise SaveRefused(errors, conflicts)
        result = SaveResult()
        history = []
        stored = dict(locked.values)
        for name, value in values.items():
            old = stored.get(name)
            if old == value:
                continue
            if value is None:
                stored.pop(name, None)
            else:
                stored[name] = value
            result.saved[name] = value
            history.append(
                ValueChange(
                    dossier=locked,
                    field_name=name,
                    old_value=old,
                    new_value=value,
                    source=source,
                    changed_by=acting_user,
                )
            )
        if history:
            computed = dossier_evaluate(compiled_form(locked.form_version), stored)
            result.computed = {
                name: value
                for name, value in computed.items()
                if locked.computed.get(name, "∅") != value
            }
            locked.values = stored
            locked.computed = computed
            locked.revision += 1
            if locked.step == Step.INITIALISED:  # the first value: step 2, being filled
                locked.start_filling()
                StepChange.objects.create(
                    dossier=locked,
                    transition="start_filling",
                    from_step=Step.INITIALISED,
                    to_step=locked.step,
                    changed_by=acting_user,
                )
            from declarations.controls.services import dossier_blocking_failures

            locked.failing_controls = len(dossier_blocking_failures(locked))
            locked.save(
                update_fields=[
                    "values", "computed", "revision", "step", "failing_controls", "updated_at",
                ]
            )  # fmt: skip
            ValueChange.objects.bulk_create(history)
        result.revision = locked.revision
    dossier.values, dossier.computed, dossier.revision = (
        locked.values,
        locked.computed,
        locked.revision,
    )
    dossier.step, dossier.updated_at = locked.step, locked.updated_at  # mirrors the saved row
    return result
