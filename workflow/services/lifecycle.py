"""The dossier's lifecycle: one service fires every transition.

It checks who may (organisme users of the dossier's organism for steps 1–3 and the
transmissions; the platform's gestionnaires for step 4 and after), checks the conditions (no
blocking control failing and every required field filled before a transmission), fires the
django-fsm transition, writes the journal row, takes the snapshots on a transmission (the XML
at once, the PDF by a worker from the values frozen at that moment) and queues the e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Role, User
from partners.services import partners_on_step_change
from workflow.models import DossierExport, FiabilisationStep, StepChange

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
    label: str  # the button
    role: str
    needs_checks: bool = False  # controls and required fields
    snapshot: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action("validate", "Valider la saisie", Role.ORGANISME, needs_checks=True),
        Action("reopen", "Reprendre la saisie", Role.ORGANISME),
        Action("transmit", "Transmettre", Role.ORGANISME, needs_checks=True, snapshot=True),
        Action(
            "retransmit", "Transmettre à nouveau", Role.ORGANISME, needs_checks=True,
            snapshot=True,
        ),
        Action("move", "Changer de sous-étape", Role.GESTIONNAIRE),
        Action("hand_back", "Rendre la main à l'organisme", Role.GESTIONNAIRE),
        Action("finalise", "Finaliser", Role.GESTIONNAIRE),
        Action("archive", "Archiver", Role.GESTIONNAIRE),
    )
}  # fmt: skip

MSG_UNKNOWN = "Action inconnue."
MSG_ROLE = "Cette action est réservée {who}."
MSG_NOT_NOW = "Cette action n'est pas possible à l'étape « {step} »."
MSG_NOT_YOURS = "Ce dossier n'est pas celui de votre organisme."
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
    if user.role != action.role:
        who = "à l'organisme" if action.role == Role.ORGANISME else "aux gestionnaires"
        raise PermissionDenied(MSG_ROLE.format(who=who))
    if action.role == Role.ORGANISME:
        membership = getattr(user, "membership", None)
        if membership is None or membership.organism_id != dossier.organism_id:
            raise PermissionDenied(MSG_NOT_YOURS)


def dossier_problems(dossier) -> list[str]:
    """What prevents validating or transmitting: blocking controls, empty required fields."""
    from declarations.controls.services import dossier_blocking_failures
    from declarations.fields import version_fields

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


def dossier_transition(
    *, dossier, action: str, acting_user, comment: str = "", substep=None
) -> StepChange:
    """Fire ``action`` on the dossier, or raise PermissionDenied / LifecycleRefused."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise LifecycleRefused([MSG_UNKNOWN])
    _check_who(dossier, spec, acting_user)
    from workflow.models import Dossier

    with transaction.atomic():
        locked = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("organism", "campaign", "document_type", "form_version", "substep")
            .get(pk=dossier.pk)
        )
        method = getattr(locked, action)
        if not can_proceed(method):
            raise LifecycleRefused([MSG_NOT_NOW.format(step=locked.get_step_display())])
        if spec.needs_checks and (problems := dossier_problems(locked)):
            raise LifecycleRefused(problems)
        if action == "move" and substep is None:
            raise LifecycleRefused([MSG_SUBSTEP])
        if action == "hand_back" and not comment.strip():
            raise LifecycleRefused([MSG_COMMENT])
        before_step, before_substep = locked.step, locked.substep
        method()
        if action == "transmit":
            locked.substep = FiabilisationStep.objects.first()
        elif action == "move":
            locked.substep = substep
        if action in ("transmit", "retransmit"):
            locked.transmitted_at = timezone.now()
        locked.save()
        change = StepChange.objects.create(
            dossier=locked,
            transition=action,
            from_step=before_step,
            from_substep=before_substep.code if before_substep else "",
            to_step=locked.step,
            to_substep=locked.substep.code if locked.substep else "",
            comment=comment.strip(),
            changed_by=acting_user,
        )
        if spec.snapshot:
            _snapshots(locked, change, acting_user)
        partners_on_step_change(change)  # after the snapshots: they are what partners get
        _notify(locked, spec, change, acting_user)
    dossier.refresh_from_db()
    return change


def _snapshots(dossier, change: StepChange, user) -> None:
    """The transmitted document, frozen: the XML now, the PDF by a worker."""
    from declarations.pdf.render import dossier_pdf_filename
    from declarations.pdf.tasks import dossier_pdf_build
    from declarations.xmlformat import dossier_xml

    frozen = {
        "step_change": change,
        "frozen_values": dossier.values,
        "frozen_computed": dossier.computed,
        "frozen_step": dossier.step_label,
        "requested_by": user,
    }
    stem = dossier_pdf_filename(dossier).removesuffix(".pdf")
    DossierExport.objects.create(
        dossier=dossier,
        kind=DossierExport.Kind.XML,
        status=DossierExport.Status.DONE,
        progress=100,
        content=dossier_xml(dossier),
        filename=f"{stem}-transmis-{change.changed_at:%Y%m%d-%H%M}.xml",
        finished_at=timezone.now(),
        **frozen,
    )
    pdf = DossierExport.objects.create(dossier=dossier, kind=DossierExport.Kind.PDF, **frozen)
    # queued in this transaction: the job exists only if the transmission does
    dossier_pdf_build.defer(export_id=pdf.pk)


def _notify(dossier, spec: Action, change: StepChange, user) -> None:
    from tenants.tasks import queue_email

    link = reverse("declarations:dossier", args=[dossier.pk])
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
