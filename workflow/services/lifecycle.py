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
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Role, User
from forms_cms.verification import DossierChecklist, dossier_checklist
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import FiabilisationStep, StepChange
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


CONFIRM_TRANSMIT = (
    "Le dossier sera transmis aux gestionnaires de la plateforme et à vos partenaires "
    "destinataires ; vous ne pourrez plus le modifier sauf si le gestionnaire vous rend la main."
)
CONFIRM_HAND_BACK = (
    "L'organisme pourra de nouveau modifier le dossier et recevra votre motif par courriel ; "
    "vous lirez la version transmise jusqu'à ce qu'il le transmette à nouveau."
)
CONFIRM_FINALISE = (
    "Le dossier passera à l'étape « 5 — Finalisé » : la fiabilisation sera close, vous ne "
    "pourrez plus changer de sous-étape ni rendre la main à l'organisme."
)
CONFIRM_ARCHIVE = "Le dossier sera archivé (étape 6) : ce changement est définitif."


@dataclass(frozen=True)
class Action:
    name: str  # the Dossier method (django-fsm transition)
    label: str  # the button (who may fire it: workflow.policy.ACTION_ROLES)
    needs_checks: bool = False  # controls and required fields
    snapshot: bool = False
    # what happens, said before an action its user cannot undo (asked for confirmation)
    confirm: str = ""


ACTIONS = {
    a.name: a
    for a in (
        Action("validate", "Valider la saisie", needs_checks=True),
        Action("reopen", "Reprendre la saisie"),
        Action(
            "transmit", "Transmettre", needs_checks=True, snapshot=True,
            confirm=CONFIRM_TRANSMIT,
        ),
        Action(
            "retransmit", "Transmettre à nouveau", needs_checks=True,
            snapshot=True, confirm=CONFIRM_TRANSMIT,
        ),
        Action("move", "Changer de sous-étape"),
        Action("hand_back", "Rendre la main à l'organisme", confirm=CONFIRM_HAND_BACK),
        Action("finalise", "Finaliser", confirm=CONFIRM_FINALISE),
        Action("archive", "Archiver", confirm=CONFIRM_ARCHIVE),
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

    @property
    def checklist(self) -> DossierChecklist | None:
        """When refused for its checks (blocking controls, empty required fields): the
        dossier's checklist, grouped by sheet, as it stood when refused."""
        return getattr(self.problems, "checklist", None)


class DossierProblems(list):
    """:func:`dossier_problems`' list of French sentences, carrying the structured
    :class:`~forms_cms.verification.DossierChecklist` they were written from."""

    checklist: DossierChecklist | None = None


def _check_who(dossier, action: Action, user) -> None:
    if (refusal := DossierPolicy(user, dossier).transition_refusal(action.name)) is not None:
        raise PermissionDenied(refusal)


def dossier_check_summary(dossier) -> DossierChecklist:
    """What prevents validating or transmitting, structured: the required fields left empty
    and the failing blocking controls, grouped by sheet, with the completion of the required
    fields (the verification page and the refusal of « Valider » / « Transmettre »)."""
    return dossier_checklist(dossier)


def dossier_problems(dossier) -> list[str]:
    """What prevents validating or transmitting: blocking controls, empty required fields
    (sentences, the first :data:`MAX_LISTED` empty fields named); the structured checklist
    rides along as ``.checklist``."""
    checklist = dossier_check_summary(dossier)
    problems = DossierProblems(
        MSG_BLOCKING.format(code=r.code, message=r.message) for r in checklist.blocking
    )
    missing = checklist.missing
    problems += [MSG_REQUIRED.format(label=m.label, name=m.name) for m in missing[:MAX_LISTED]]
    if len(missing) > MAX_LISTED:
        problems.append(f"… et {len(missing) - MAX_LISTED} autres champs obligatoires vides.")
    problems.checklist = checklist
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


def transition_target(dossier, action: str, substep=None):
    """Where ``action`` takes the dossier from its step now: ``(step, sub-step)``, or None
    when the action is not possible at this step. The sub-step: the platform's first on a
    first transmission, ``substep`` on a move, the dossier's own otherwise (a transmission
    after a hand-back returns to the sub-step it left). The write gate moves the dossier
    there; the confirmation says it beforehand."""
    target = next(
        (t.target for t in dossier.get_available_step_transitions() if t.name == action), None
    )
    if target is None:
        return None
    if action == "transmit":
        substep = FiabilisationStep.objects.first()
    elif action != "move":
        substep = dossier.substep
    return target, substep


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
            f"{timezone.localtime(change.changed_at):%d/%m/%Y à %H:%M}. Il est à l'étape "
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
