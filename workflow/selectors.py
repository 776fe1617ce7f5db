"""Read-only questions about campaigns and dossiers that several screens ask."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from forms_cms.models import DocumentType, FormVersion
from workflow.deadlines import Deadline
from workflow.models import Campaign, Dossier, Step
from workflow.services.deadlines import deadlines_for, deadlines_of_organism, is_late
from workflow.workspace import NOT_STARTED, not_started_count


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
    required: bool = True  # the organism's family must file it (else: voluntary)
    schedule: Deadline | None = None  # the organism's deadline (its rule, approval, prorogation)

    @property
    def deadline(self) -> date | None:
        """The day past which the organism is late (None: to be stated)."""
        return self.schedule.effective if self.schedule else self.campaign.deadline

    @property
    def days_left(self) -> int | None:
        return None if self.deadline is None else (self.deadline - timezone.localdate()).days

    @property
    def days_late(self) -> int:
        return max(-(self.days_left or 0), 0)

    @property
    def late(self) -> bool:
        """Past the deadline and never transmitted; a document filed voluntarily is never
        late."""
        transmitted = self.dossier is not None and self.dossier.transmitted_at is not None
        left = self.days_left
        return self.required and left is not None and left < 0 and not transmitted

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


def offers_for(organism, dossiers=None) -> list[Offer]:
    """Every (campaign, document) with a form version that the organism must or may file
    (its family; a dossier already opened is always listed), newest exercise first, with the
    organism's dossier when it has one (``dossiers``: the organism's, already read)."""
    if dossiers is None:
        dossiers = (
            Dossier.objects.filter(organism=organism)
            .select_related("campaign", "document_type", "substep")
            .defer("values", "computed")
        )
    dossiers = {(d.campaign_id, d.document_type_id): d for d in dossiers}
    versions = (
        FormVersion.objects.filter(published_at__isnull=False)
        .select_related("campaign", "document_type")
        .order_by("-campaign__exercise", "document_type__position", "-number")
    )
    offers, seen = [], set()
    for version in versions:
        key = (version.campaign_id, version.document_type_id)
        if key in seen:
            continue
        seen.add(key)
        document, dossier = version.document_type, dossiers.get(key)
        if dossier is not None or document.may_file(organism):
            required = document.must_file(organism)
            offers.append(Offer(version.campaign, document, dossier, required))
    schedules = deadlines_of_organism(organism, [(o.campaign, o.document_type) for o in offers])
    for offer in offers:
        offer.schedule = schedules[(offer.campaign.pk, offer.document_type.pk)]
    return offers


def step_counts(campaign: Campaign, document_type: DocumentType, organisms) -> list:
    """(code, label, count) for every step of one campaign's document, "not started" first:
    of ``organisms`` (a queryset), those bound to file the document without a dossier."""
    dossiers = Dossier.objects.filter(campaign=campaign, document_type=document_type)
    counts = Counter(dossiers.values_list("step", flat=True))
    not_started = not_started_count(document_type, dossiers, organisms)
    return [(NOT_STARTED, "Non initialisé", not_started)] + [
        (code, label, counts.get(code, 0)) for code, label in Step.choices
    ]


def late_dossiers(campaign: Campaign, limit: int | None = None) -> list[Dossier]:
    """Dossiers of a campaign past their organism's own deadline and never transmitted (the
    organism's rule, approval date and prorogation), by organism name."""
    today = timezone.localdate()
    if campaign.opening_date > today:
        return []
    dossiers = list(
        Dossier.objects.filter(campaign=campaign, transmitted_at__isnull=True)
        .select_related("organism", "document_type")
        .defer("values", "computed")
        .order_by("organism__name")
    )
    late = []
    for document_type in {d.document_type for d in dossiers}:
        mine = [d for d in dossiers if d.document_type_id == document_type.pk]
        schedules = deadlines_for(campaign, document_type, [d.organism for d in mine])
        late += [
            d
            for d in mine
            if document_type.must_file(d.organism)
            and is_late(schedules[d.organism_id], d, True, today)
        ]
    late.sort(key=lambda d: d.organism.name)
    return late[:limit] if limit else late
