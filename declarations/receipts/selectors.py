"""What an action will do (the confirmation) and what a transmission did (the receipt)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models.functions import Substr

from forms_cms.models import Control
from forms_cms.verification import DossierChecklist
from partners.models import Transmission
from partners.selectors import moment_codes, partners_receiving
from workflow.models import Dossier, DossierExport, FiabilisationStep, Step, StepChange
from workflow.services.lifecycle import ACTIONS, Action, dossier_check_summary, transition_target

# the actions that send the dossier: frozen as PDF and XML, then to its partners
TRANSMISSIONS = ("transmit", "retransmit")
# the actions whose confirmation names the partners the dossier goes to at the step reached
NAMES_RECIPIENTS = (*TRANSMISSIONS, "finalise", "archive")
# the XML snapshot names its form version in its root element, in its first bytes
_XML_HEAD = 1024
_XML_VERSION = re.compile(rb'\sversion="(\d+)"')


def moment_order() -> dict[str, int]:
    """The rank of every moment a rule may name, in the lifecycle's order: steps 1 to 4,
    the platform's sub-steps in their order, the hand-back, then steps 5 and 6."""
    codes = [Step.INITIALISED, Step.FILLING, Step.VALIDATED, Step.FIABILISATION]
    codes += list(FiabilisationStep.objects.values_list("code", flat=True))
    codes += [Step.HANDED_BACK, Step.FINALISED, Step.ARCHIVED]
    return {str(code): rank for rank, code in enumerate(codes)}


def moment_label(code: str) -> str:
    """« sous-étape 4.8 » for a sub-step code, « étape 6 » for a step."""
    if code in Step.values:
        return f"étape {code}"
    return f"sous-étape {code}"


@dataclass(frozen=True)
class PartnerLine:
    """A partner the dossier goes to, and when else it receives it (« sous-étape 4.8, étape
    6 »; empty when never again)."""

    name: str
    later: str


@dataclass(frozen=True)
class ChecksStatus:
    """The checks a transmission needs, as they stand: the form version's enabled blocking
    controls and how many fail, its required fields and how many are empty."""

    blocking_controls: int
    blocking_failing: int
    required_fields: int
    required_missing: int

    @property
    def passed(self) -> bool:
        return not self.blocking_failing and not self.required_missing

    @property
    def blocking_passed(self) -> int:
        return self.blocking_controls - self.blocking_failing


@dataclass(frozen=True)
class ActionPreview:
    """What confirming ``action`` on ``dossier`` will do: the step it reaches, the partners
    that receive the dossier there (``now``) or only at a later step (``later``), and for a
    transmission the checks it needs."""

    action: Action
    dossier: Dossier
    step_label: str
    sends: bool  # a transmission: the document frozen (PDF, XML), the organism's receipt
    names_recipients: bool
    now: list[PartnerLine]
    later: list[PartnerLine]
    checks: ChecksStatus | None

    @property
    def ready(self) -> bool:
        """Nothing the preview knows prevents the action (the write gate checks again)."""
        return self.checks is None or self.checks.passed


def _reached_label(step: str, substep) -> str:
    # the label the dossier will show there (an unsaved copy: nothing is written)
    return Dossier(step=step, substep=substep).step_label


def checks_status(dossier, checklist: DossierChecklist | None = None) -> ChecksStatus:
    """The checks of a transmission (``checklist``: the dossier's, when already computed)."""
    checklist = checklist if checklist is not None else dossier_check_summary(dossier)
    controls = Control.objects.filter(
        version_id=dossier.form_version_id, enabled=True, severity=Control.Severity.BLOCKING
    ).count()
    return ChecksStatus(
        blocking_controls=controls,
        blocking_failing=len(checklist.blocking),
        required_fields=checklist.required_total,
        required_missing=len(checklist.missing),
    )


def action_preview(dossier, action: str, *, checklist=None) -> ActionPreview | None:
    """What ``action`` will do if confirmed now, or None when it is not possible at the
    dossier's step. The partners come from the partners' rules and the organism's choices
    (:func:`partners.selectors.partners_receiving`, the same reading as the sending itself)."""
    spec = ACTIONS[action]
    target = transition_target(dossier, action)
    if target is None:
        return None
    step, substep = target
    now: list[PartnerLine] = []
    later: list[PartnerLine] = []
    if action in NAMES_RECIPIENTS:
        reached = substep.code if step == Step.FIABILISATION and substep else step
        codes = moment_codes(
            from_step=dossier.step,
            from_substep=dossier.substep.code if dossier.substep_id else "",
            to_step=step,
            to_substep=substep.code if substep else "",
        )
        order = moment_order()
        for recipient in partners_receiving(
            organism=dossier.organism, document_type=dossier.document_type, codes=codes
        ):
            # the moments still ahead (a moment the dossier has passed is not coming again)
            ahead = [m for m in recipient.moments if order.get(m, -1) > order.get(reached, -1)]
            line = PartnerLine(recipient.partner.name, ", ".join(map(moment_label, ahead)))
            if recipient.now:
                now.append(line)
            elif ahead:
                later.append(line)
    return ActionPreview(
        action=spec,
        dossier=dossier,
        step_label=_reached_label(step, substep),
        sends=action in TRANSMISSIONS,
        names_recipients=action in NAMES_RECIPIENTS,
        now=now,
        later=later,
        checks=checks_status(dossier, checklist) if spec.needs_checks else None,
    )


@dataclass(frozen=True)
class ShownAction:
    """A lifecycle button: the action, and what its confirmation says (None when it asks
    none)."""

    action: Action
    preview: ActionPreview | None

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def label(self) -> str:
        return self.action.label

    @property
    def confirm(self) -> str:
        return self.action.confirm


def shown_actions(dossier, actions: list[Action], *, checklist=None) -> list[ShownAction]:
    """The dossier page's buttons, each action that asks for confirmation with its preview
    (``checklist``: the dossier's own, already computed by the page)."""
    return [
        ShownAction(a, action_preview(dossier, a.name, checklist=checklist) if a.confirm else None)
        for a in actions
    ]


# --- the receipt ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Receipt:
    """Accusé de réception of one transmission: what was sent, when, by whom, the step it
    reached, the partners it went to then, and the PDF frozen then (None if it is gone)."""

    change: StepChange
    dossier: Dossier
    version_number: int
    step_label: str
    partners: list[str]
    pdf: DossierExport | None

    @property
    def retransmission(self) -> bool:
        return self.change.transition == "retransmit"

    @property
    def sent_by(self) -> str:
        user = self.change.changed_by
        if user is None:
            return ""
        return user.get_full_name() or user.get_username()


def _transmitted_version(xml: DossierExport | None, dossier) -> int:
    """The form version the XML snapshot names (the dossier may have moved to another one
    since); the dossier's own when the snapshot says nothing."""
    if xml is not None:
        head = (
            DossierExport.objects.filter(pk=xml.pk)
            .annotate(head=Substr("content", 1, _XML_HEAD))
            .values_list("head", flat=True)
            .first()
        )
        if head is not None and (match := _XML_VERSION.search(bytes(head))):
            return int(match[1])
    return dossier.form_version.number


def receipt_for(change: StepChange, dossier) -> Receipt:
    """The receipt of ``change`` (a transmission of ``dossier``), read from the journal, its
    snapshots and the partners' transmissions recorded with it."""
    snapshots = {
        s.kind: s
        for s in DossierExport.objects.filter(step_change=change)
        .defer("content", "frozen_values", "frozen_computed")
        .order_by("pk")
    }
    xml, pdf = snapshots.get(DossierExport.Kind.XML), snapshots.get(DossierExport.Kind.PDF)
    partners = list(
        Transmission.objects.filter(step_change=change)
        .order_by("partner__kind", "partner__name")
        .values_list("partner__name", flat=True)
    )
    frozen = (xml or pdf).frozen_step if (xml or pdf) else ""
    return Receipt(
        change=change,
        dossier=dossier,
        version_number=_transmitted_version(xml, dossier),
        step_label=frozen or Step(change.to_step).label,
        partners=partners,
        pdf=pdf,
    )


def latest_receipt(dossier) -> Receipt | None:
    """The receipt of the dossier's latest transmission (or transmission after a hand-back),
    or None if it was never transmitted."""
    if dossier.transmitted_at is None:
        return None
    change = (
        StepChange.objects.filter(dossier=dossier, transition__in=TRANSMISSIONS)
        .select_related("changed_by")
        .first()
    )
    return receipt_for(change, dossier) if change is not None else None
