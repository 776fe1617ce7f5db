"""The dossier's lifecycle rules: the actions, their conditions, their e-mails.

Transitions are fired by ``workflow.actions.dossier_transition`` (the dossier's write gate),
which asks ``workflow.policy`` who may, checks the conditions below (no blocking control
failing and every required field filled before a validation or transmission), writes the
journal row, takes the snapshots on a transmission and sends ``dossier_step_changed``;
:func:`notify_step_change` is that signal's e-mail receiver.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_fsm import can_proceed

from accounts.models import Role, User
from forms_cms.fields import version_fields
from forms_cms.verification import dossier_blocking_failures
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import StepChange
from workflow.policy import DossierPolicy

DEFAULT_SUBSTEPS = (
    ("4.1", "Réception et premier examen"),
    ("4.2", "Analyse des états"),
    ("4.3", "Demande de précisions à l'organisme"),
    ("4.4", "Corrections en cours"),
    ("4.5", "Contrôle de cohérence"),
    ("4.6", "Validation des corrections"),
    ("4.7", "Consolidation"),
    ("4.8", "Fiabilisation terminée"),
)


@dataclass(frozen=True)
class Action:
    name: str  # the Dossier method (django-fsm transition)
    label: str  # the button (who may fire it: workflow.policy.ACTION_ROLES)
    needs_checks: bool = False  # controls and required fields
    snapshot: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action("validate", "Valider la saisie", needs_checks=True),
        Action("reopen", "Reprendre la saisie"),
        Action("transmit", "Transmettre", needs_checks=True, snapshot=True),
        Action(
            "retransmit", "Transmettre à nouveau", needs_checks=True,
            snapshot=True,
        ),
        Action("move", "Changer de sous-étape"),
        Action("hand_back", "Rendre la main à l'organisme"),
        Action("finalise", "Finaliser"),
        Action("archive", "Archiver"),
    )
}  # fmt: skip

MSG_UNKNOWN = "Action inconnue."
MSG_NOT_NOW = "Cette action n'est pas possible à l'étape « {step} »."
MSG_BLOCKING = "Contrôle bloquant en échec — {code} : {message}"
MSG_REQUIRED = "Champ obligatoire non rempli : {label} ({name})."
MSG_SUBSTEP = "Choisissez la sous-étape vers laquelle déplacer le dossier."
MSG_COMMENT = "Indiquez à l'organisme pourquoi la main lui est rendue."
MAX_LISTED = 20


class LifecycleRefused(Exception):
    """Nothing changed; ``problems`` say why (in French)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _check_who(dossier, action: Action, user) -> None:
    if (refusal := DossierPolicy(user, dossier).transition_refusal(action.name)) is not None:
        raise PermissionDenied(refusal)


def dossier_problems(dossier) -> list[str]:
    """What prevents validating or transmitting: blocking controls, empty required fields."""
    problems = [
        MSG_BLOCKING.format(code=r.code, message=r.message)
        for r in dossier_blocking_failures(dossier)
    ]
    missing = [
        info
        for info in version_fields(dossier.form_version).values()
        if info.required and not info.computed and dossier.values.get(info.name) in (None, "")
    ]
    problems += [MSG_REQUIRED.format(label=i.label, name=i.name) for i in missing[:MAX_LISTED]]
    if len(missing) > MAX_LISTED:
        problems.append(f"… et {len(missing) - MAX_LISTED} autres champs obligatoires vides.")
    return problems


def available_actions(dossier, user) -> list[Action]:
    """The actions this user may try on the dossier now (for the buttons)."""
    out = []
    for action in ACTIONS.values():
        try:
            _check_who(dossier, action, user)
        except PermissionDenied:
            continue
        if can_proceed(getattr(dossier, action.name)):
            out.append(action)
    return out


def notify_step_change(*, dossier, change: StepChange, **kwargs) -> None:
    """E-mails of the lifecycle (receiver of ``workflow.signals.dossier_step_changed``):
    the gestionnaires when a dossier is transmitted, the organism when it gets the hand back."""
    spec = ACTIONS.get(change.transition)
    if spec is None:
        return
    link = absolute_url(reverse("declarations:dossier", args=[dossier.pk]))
    what = f"{dossier.document_type.label} {dossier.campaign.exercise}"
    organism = f"{dossier.organism.name} (SIREN {dossier.organism.siren})"
    if spec.name in ("transmit", "retransmit"):
        recipients = list(
            User.objects.filter(role=Role.GESTIONNAIRE, is_active=True).values_list(
                "email", flat=True
            )
        )
        subject = f"Dossier transmis : {what} — {organism}"
        body = (
            f"Bonjour,\n\n{organism} a transmis son dossier « {what} » le "
            f"{change.changed_at:%d/%m/%Y à %H:%M}. Il est à l'étape "
            f"« {dossier.step_label} ».\n\nConsulter le dossier : {link}\n"
        )
    elif spec.name == "hand_back":
        recipients = list(
            User.objects.filter(
                role=Role.ORGANISME, is_active=True, membership__organism=dossier.organism
            ).values_list("email", flat=True)
        )
        subject = f"La main vous est rendue : {what}"
        body = (
            f"Bonjour,\n\nLe gestionnaire vous rend la main sur le dossier « {what} » de "
            f"{organism} pour que vous le corrigiez, puis le transmettiez à nouveau.\n\n"
            f"Motif : {change.comment}\n\nOuvrir le dossier : {link}\n"
        )
    else:
        return
    if recipients:
        queue_email(subject=subject, body=body, to=recipients)
