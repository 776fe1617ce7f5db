"""Read-only questions about campaigns and dossiers that several screens ask."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from forms_cms.models import DocumentType, FormVersion
from workflow.models import ENTRY_STEPS, Campaign, Dossier, Step
from workflow.workspace import NOT_STARTED


@dataclass(frozen=True)
class NextAction:
    label: str
    url_name: str  # "declarations:start" (args: campaign, document type) or a dossier URL
    urgent: bool = False


@dataclass
class Offer:
    """A document an organism may file in a campaign, with its dossier once opened."""

    campaign: Campaign
    document_type: DocumentType
    dossier: Dossier | None

    @property
    def deadline(self) -> date:
        return self.campaign.deadline

    @property
    def days_left(self) -> int:
        return (self.deadline - timezone.localdate()).days

    @property
    def days_late(self) -> int:
        return max(-self.days_left, 0)

    @property
    def late(self) -> bool:
        """Past the deadline and not transmitted (still with the organism)."""
        return self.days_left < 0 and (self.dossier is None or self.dossier.step in ENTRY_STEPS)

    @property
    def next_action(self) -> NextAction:
        step = self.dossier.step if self.dossier else None
        if step is None:
            return NextAction("Commencer la saisie", "declarations:start", urgent=True)
        if step in (Step.INITIALISED, Step.FILLING):
            return NextAction("Continuer la saisie", "declarations:dossier", urgent=True)
        if step == Step.VALIDATED:
            return NextAction("Transmettre le dossier", "declarations:dossier", urgent=True)
        if step == Step.HANDED_BACK:
            return NextAction("Corriger et transmettre à nouveau", "declarations:dossier", True)
        if step == Step.FIABILISATION:
            return NextAction("Consulter (fiabilisation en cours)", "declarations:dossier")
        return NextAction("Consulter", "declarations:dossier")


def offers_for(organism) -> list[Offer]:
    """Every (campaign, document) with a form version, newest exercise first, with the
    organism's dossier when it has one."""
    dossiers = {
        (d.campaign_id, d.document_type_id): d
        for d in Dossier.objects.filter(organism=organism)
        .select_related("campaign", "document_type", "substep")
        .defer("values", "computed")
    }
    versions = FormVersion.objects.select_related("campaign", "document_type").order_by(
        "-campaign__exercise", "document_type__position", "-number"
    )
    offers, seen = [], set()
    for version in versions:
        key = (version.campaign_id, version.document_type_id)
        if key not in seen:
            seen.add(key)
            offers.append(Offer(version.campaign, version.document_type, dossiers.get(key)))
    return offers


def step_counts(campaign: Campaign, document_type: DocumentType, organisms: int) -> list:
    """(code, label, count) for every step of one campaign's document, "not started" first
    (the organisms given minus the dossiers opened)."""
    counts = Counter(
        Dossier.objects.filter(campaign=campaign, document_type=document_type).values_list(
            "step", flat=True
        )
    )
    opened = sum(counts.values())
    return [(NOT_STARTED, "Non initialisé", max(organisms - opened, 0))] + [
        (code, label, counts.get(code, 0)) for code, label in Step.choices
    ]


def late_dossiers(campaign: Campaign):
    """Dossiers of a campaign past its deadline that are still with their organism."""
    if campaign.deadline >= timezone.localdate():
        return Dossier.objects.none()
    return (
        Dossier.objects.filter(campaign=campaign, step__in=ENTRY_STEPS)
        .select_related("organism", "document_type")
        .defer("values", "computed")
        .order_by("organism__name")
    )
