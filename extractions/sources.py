"""The dossiers an extraction reads, as the permission policy lets its requester read them,
loaded a few at a time (never all values of all dossiers at once).

- A gestionnaire: the dossiers fixed at the request, again filtered by the policy (never one
  at steps 1–3, :data:`workflow.policy.ORGANISM_STEPS`); values as last transmitted (the
  transmission snapshot, :func:`workflow.policy.last_transmission`), or current ones for the
  dossiers in steps 4, 5, 6 — a dossier handed back (4R) is read from its snapshot as
  :meth:`workflow.policy.DossierPolicy.readable` does.
- A partner: the transmissions fixed at the request that
  :func:`partners.selectors.transmissions_visible_to` still shows, with the values frozen in
  each (never the dossier's later changes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from extractions.models import Extraction
from forms_cms.models import FormVersion
from partners.models import Transmission
from partners.selectors import transmissions_visible_to
from workflow.models import Dossier, DossierExport, Step
from workflow.policy import LIVE_FOR_GESTIONNAIRE, ORGANISM_STEPS

CHUNK = 25  # dossiers whose values are in memory at once


@dataclass
class Entry:
    """One extracted dossier: ``dossier`` carries the values to write (never saved); ``key``
    the dossier's id (a partner: the transmission's)."""

    key: int
    dossier: Dossier
    step: str
    substep: str
    sent_at: dt.datetime | None = None

    @property
    def head(self) -> list[str]:
        organism = self.dossier.organism
        return [
            organism.siren,
            organism.name,
            organism.get_family_display(),
            self.step,
            self.substep,
        ]


def _never_saved(*args, **kwargs):
    raise RuntimeError("An extracted dossier carries read values: it is never saved.")


def _chunks(iterable, size: int = CHUNK):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Source:
    """``len(source)``, ``source.versions()`` (newest first) and ``iter(source)`` of
    :class:`Entry`, in SIREN order."""

    def __init__(self, extraction: Extraction):
        self.extraction = extraction
        self.user = extraction.requested_by

    @classmethod
    def of(cls, extraction: Extraction) -> Source:
        return (PartnerSource if extraction.partner_id else GestionnaireSource)(extraction)


class GestionnaireSource(Source):
    def dossiers(self):
        e = self.extraction
        if self.user is None or not self.user.is_active or self.user.role != "gestionnaire":
            return Dossier.objects.none()
        return Dossier.objects.filter(
            pk__in=[int(i) for i in e.scope],
            campaign_id=e.campaign_id,
            document_type_id=e.document_type_id,
        ).exclude(step__in=ORGANISM_STEPS)

    def __len__(self) -> int:
        return self.dossiers().count()

    def versions(self) -> list[FormVersion]:
        ids = self.dossiers().values("form_version_id")
        return list(FormVersion.objects.filter(pk__in=ids).order_by("-number", "-pk"))

    def __iter__(self) -> Iterator[Entry]:
        live = self.extraction.values == Extraction.Values.CURRENT
        dossiers = (
            self.dossiers()
            .select_related(
                "organism",
                "substep",
                "campaign",
                "document_type",
                "form_version__document_type",
            )
            .defer("values", "computed")
            .order_by("organism__siren", "pk")
        )
        for chunk in _chunks(dossiers.iterator(chunk_size=CHUNK * 4)):
            from_live = {d.pk for d in chunk if live and d.step in LIVE_FOR_GESTIONNAIRE}
            loaded = dict(
                (pk, (values, computed))
                for pk, values, computed in Dossier.objects.filter(pk__in=from_live).values_list(
                    "pk", "values", "computed"
                )
            )
            snapshots = (
                DossierExport.objects.filter(
                    dossier_id__in=[d.pk for d in chunk if d.pk not in from_live],
                    kind=DossierExport.Kind.XML,
                    step_change__isnull=False,
                )
                .order_by("dossier_id", "-requested_at", "-pk")
                .distinct("dossier_id")
                .values_list("dossier_id", "frozen_values", "frozen_computed")
            )
            for pk, values, computed in snapshots:
                loaded[pk] = (values or {}, computed or {})
            for dossier in chunk:
                values, computed = loaded.pop(dossier.pk, ({}, {}))
                dossier.values, dossier.computed = values, computed
                dossier.save = _never_saved
                substep = dossier.substep.code if dossier.substep_id else ""
                yield Entry(
                    dossier.pk, dossier, dossier.get_step_display(), substep, dossier.transmitted_at
                )


class PartnerSource(Source):
    def transmissions(self):
        e = self.extraction
        if self.user is None or not self.user.is_active:
            return Transmission.objects.none()
        return transmissions_visible_to(self.user).filter(
            pk__in=[int(i) for i in e.scope],
            partner_id=e.partner_id,
            dossier__campaign_id=e.campaign_id,
            dossier__document_type_id=e.document_type_id,
        )

    def __len__(self) -> int:
        return self.transmissions().count()

    def versions(self) -> list[FormVersion]:
        ids = self.transmissions().values("form_version_id")
        return list(FormVersion.objects.filter(pk__in=ids).order_by("-number", "-pk"))

    def __iter__(self) -> Iterator[Entry]:
        transmissions = (
            self.transmissions()
            .select_related(
                "dossier__organism",
                "dossier__campaign",
                "dossier__document_type",
                "form_version__document_type",
                "step_change",
            )
            .defer("values", "computed", "dossier__values", "dossier__computed")
            .order_by("dossier__organism__siren", "dossier_id", "-sent_at")
        )
        for chunk in _chunks(transmissions.iterator(chunk_size=CHUNK * 4)):
            loaded = {
                pk: (values, computed)
                for pk, values, computed in Transmission.objects.filter(
                    pk__in=[t.pk for t in chunk]
                ).values_list("pk", "values", "computed")
            }
            for transmission in chunk:
                dossier = transmission.dossier
                dossier.values, dossier.computed = loaded.pop(transmission.pk, ({}, {}))
                dossier.form_version = transmission.form_version
                dossier.save = _never_saved
                yield Entry(
                    transmission.pk,
                    dossier,
                    Step(transmission.step_change.to_step).label,
                    transmission.step_change.to_substep,
                    transmission.sent_at,
                )
