"""The gestionnaire's workspace: the dossiers of a campaign and document, with the organisms
that have none yet ("non initialisé"), filters, counts per step and exports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Q

from organisms.models import Organism
from workflow.models import Dossier, Step
from workflow.policy import values_visible_to_gestionnaires

NOT_STARTED = "0"
NOT_STARTED_LABEL = "0 — Non initialisé"
STEP_FILTER_CHOICES = [(NOT_STARTED, NOT_STARTED_LABEL), *Step.choices]


@dataclass
class Row:
    organism: Organism
    dossier: Dossier | None

    @property
    def step(self) -> str:
        return self.dossier.step if self.dossier else NOT_STARTED

    @property
    def step_label(self) -> str:
        return self.dossier.get_step_display() if self.dossier else NOT_STARTED_LABEL

    @property
    def failing_controls(self) -> int | None:
        """Blocking controls failing, when the gestionnaires may know it: derived from the
        values, it is the organism's alone until transmission and while handed back."""
        if self.dossier is None or not values_visible_to_gestionnaires(self.dossier.step):
            return None
        return self.dossier.failing_controls

    @property
    def substep(self) -> str:
        return self.dossier.substep.code if self.dossier and self.dossier.substep else ""


def workspace_rows(*, campaign, document_type, filters: dict) -> tuple[list[Row], Counter]:
    """Rows matching ``filters`` and the count of every step over the whole campaign."""
    organisms = Organism.objects.filter(is_active=True).order_by("name")
    if q := (filters.get("q") or "").strip():
        compact = q.replace(" ", "")
        organisms = organisms.filter(Q(name__icontains=q) | Q(siren__startswith=compact))
    if family := filters.get("family"):
        organisms = organisms.filter(family=family)
    if departement := filters.get("departement"):
        organisms = organisms.filter(departement=departement)
    dossiers = {
        d.organism_id: d
        for d in Dossier.objects.filter(campaign=campaign, document_type=document_type)
        .select_related("substep", "form_version")
        .defer("values", "computed")
    }
    counts = Counter(d.step for d in dossiers.values())
    counts[NOT_STARTED] = (
        Organism.objects.filter(is_active=True).exclude(pk__in=dossiers.keys()).count()
    )
    rows = [Row(o, dossiers.get(o.pk)) for o in organisms]
    if steps := filters.get("steps"):
        rows = [r for r in rows if r.step in steps]
    if substep := filters.get("substep"):
        rows = [r for r in rows if r.substep == substep]
    if filters.get("failing"):
        rows = [r for r in rows if r.failing_controls]
    return rows, counts


EXPORT_HEADERS = [
    "SIREN",
    "Raison sociale",
    "Famille",
    "Département",
    "Étape",
    "Sous-étape",
    "Contrôles bloquants en échec",
    "Transmis le",
    "Dernière modification",
]


def export_rows(rows: list[Row]) -> list[list]:
    out = []
    for r in rows:
        d = r.dossier
        out.append(
            [
                r.organism.siren,
                r.organism.name,
                r.organism.get_family_display(),
                r.organism.departement,
                r.step_label,
                r.substep,
                "" if r.failing_controls is None else r.failing_controls,
                d.transmitted_at.strftime("%d/%m/%Y %H:%M") if d and d.transmitted_at else "",
                d.updated_at.strftime("%d/%m/%Y %H:%M") if d else "",
            ]
        )
    return out
