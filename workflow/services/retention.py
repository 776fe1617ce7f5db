"""Retention: dossiers are kept five exercises, then purged on demand.

A dry run lists what would go; the purge itself runs only when confirmed, deletes the
dossiers with everything that hangs from them (values history, step journal, transmitted PDF
and XML, exchange messages and their attachments, partner transmissions) and writes a
``PurgeLog`` row that stays. The purge itself is the write gate's
(``workflow.actions.dossiers_purge``); this module plans it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from workflow.models import Dossier, DossierExport
from workflow.signals import dossiers_purge_counted

KEPT_EXERCISES = 5


@dataclass
class PurgePlan:
    oldest_kept: int
    dossiers: list[Dossier]
    exports: int
    attachments: int

    def lines(self) -> list[str]:
        return [
            f"{d.campaign.exercise} {d.document_type.code} {d.organism.siren} {d.organism.name}"
            for d in self.dossiers
        ]


def oldest_kept_exercise(reference: int | None = None) -> int:
    """The oldest exercise kept: the last five, counted back from ``reference`` (by default
    the exercise closed last year)."""
    reference = reference or timezone.localdate().year - 1
    return reference - KEPT_EXERCISES + 1


def purge_plan(*, reference: int | None = None) -> PurgePlan:
    oldest = oldest_kept_exercise(reference)
    dossiers = list(
        Dossier.objects.filter(campaign__exercise__lt=oldest)
        .select_related("campaign", "document_type", "organism")
        .order_by("campaign__exercise", "document_type__code", "organism__siren")
    )
    ids = [d.pk for d in dossiers]
    exports = DossierExport.objects.filter(dossier_id__in=ids).count()
    # what other apps keep beside the dossiers (the exchange space's attachments) they count
    counted: dict[str, int] = {}
    for _receiver, counts in dossiers_purge_counted.send(sender=Dossier, dossier_ids=ids):
        for key, value in (counts or {}).items():
            counted[key] = counted.get(key, 0) + value
    return PurgePlan(oldest, dossiers, exports, counted.get("attachments", 0))
