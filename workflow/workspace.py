"""The gestionnaire's workspace: the dossiers of a campaign and document, with the organisms
that have none yet ("non initialisé"), filters, counts per step and exports."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from organisms.models import Organism
from workflow.deadlines import DUE_SOON_DAYS, Deadline
from workflow.models import Dossier, Step
from workflow.policy import values_visible_to_gestionnaires
from workflow.services.annotations import Marks, marks_for, organisms_noted
from workflow.services.deadlines import deadlines_for, is_late
from workflow.services.reminders import last_reminded

NOT_STARTED = "0"
NOT_STARTED_LABEL = "0 — Non initialisé"
STEP_FILTER_CHOICES = [(NOT_STARTED, NOT_STARTED_LABEL), *Step.choices]
LATE, DUE_SOON, PROROGATED, TO_STATE = "late", "soon", "prorogated", "unknown"
DEADLINE_FILTER_CHOICES = [
    ("", "Toutes"),
    (LATE, "En retard"),
    (DUE_SOON, f"À transmettre dans les {DUE_SOON_DAYS} jours"),
    (PROROGATED, "Prorogée"),
    (TO_STATE, "Date limite à préciser"),
]
SORT_CHOICES = [
    ("", "Activité récente"),
    ("deadline", "Date limite la plus proche"),
    ("name", "Nom"),
]


@dataclass
class Row:
    organism: Organism
    dossier: Dossier | None
    deadline: Deadline | None = None
    required: bool = True
    last_reminded: dt.datetime | None = None
    marks: Marks = Marks()  # the gestionnaires' private annotations: « à suivre », notes

    @property
    def transmitted(self) -> bool:
        return self.dossier is not None and self.dossier.transmitted_at is not None

    @property
    def days_left(self) -> int | None:
        if self.deadline is None:
            return None
        return self.deadline.days_left(timezone.localdate())

    @property
    def late(self) -> bool:
        return self.deadline is not None and is_late(self.deadline, self.dossier, self.required)

    @property
    def due_soon(self) -> bool:
        left = self.days_left
        return (
            self.required
            and not self.transmitted
            and left is not None
            and 0 <= left <= DUE_SOON_DAYS
        )

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


def not_started_count(document_type, dossiers, organisms) -> int:
    """Of ``organisms``, those bound to file ``document_type`` that have none of ``dossiers``
    (the campaign's for that document): the « non initialisés » every count shows."""
    return document_type.filers(organisms).exclude(pk__in=dossiers.values("organism_id")).count()


def workspace_rows(*, campaign, document_type, filters: dict) -> tuple[list[Row], Counter]:
    """Rows matching ``filters`` and the count of every step over the whole campaign."""
    organisms = (
        Organism.objects.filter(is_active=True)
        .order_by("name")
        .only("pk", "name", "siren", "family", "departement", "accounting", "closing")
    )
    if q := (filters.get("q") or "").strip():
        compact = q.replace(" ", "")
        organisms = organisms.filter(
            Q(name__icontains=q)
            | Q(siren__startswith=compact)
            | Q(pk__in=organisms_noted(campaign, document_type, q))
        )
    if family := filters.get("family"):
        organisms = organisms.filter(family=family)
    if departement := filters.get("departement"):
        organisms = organisms.filter(departement=departement)
    campaign_dossiers = Dossier.objects.filter(campaign=campaign, document_type=document_type)
    dossiers = {
        d.organism_id: d
        for d in campaign_dossiers.select_related("substep").only(
            "pk",
            "organism_id",
            "step",
            "substep",
            "transmitted_at",
            "updated_at",
            "failing_controls",
        )
    }
    counts = Counter(d.step for d in dossiers.values())
    # « not started » counts the organisms bound to file this document (their family), not
    # every organism of the platform; one that files it voluntarily shows once it has begun
    counts[NOT_STARTED] = not_started_count(
        document_type, campaign_dossiers, Organism.objects.filter(is_active=True)
    )
    shown = [o for o in organisms if o.pk in dossiers or document_type.must_file(o)]
    schedules = deadlines_for(campaign, document_type, shown)
    reminded = last_reminded(campaign, document_type)
    rows = [
        Row(o, dossiers.get(o.pk), schedules[o.pk], document_type.must_file(o), reminded.get(o.pk))
        for o in shown
    ]
    _mark(rows, campaign, document_type)
    sort = filters.get("sort")
    if sort == "deadline":
        # the nearest deadline first (the most late), dates to be stated then, transmitted last
        rows.sort(key=_urgency)
    elif sort != "name":
        # what needs the gestionnaire first: transmitted, then most recently active dossiers;
        # organisms without a dossier last (by name, the queryset's order; the sort is stable)
        rows.sort(key=_activity, reverse=True)
    if due := filters.get("due"):
        rows = [r for r in rows if _due_matches(r, due)]
    if steps := filters.get("steps"):
        rows = [r for r in rows if r.step in steps]
    if substep := filters.get("substep"):
        rows = [r for r in rows if r.substep == substep]
    if filters.get("failing"):
        rows = [r for r in rows if r.failing_controls]
    if filters.get("follow_up"):
        rows = [r for r in rows if r.marks.follow_up]
    return rows, counts


def _mark(rows: list[Row], campaign, document_type) -> None:
    """Each row's private annotations, in two queries whatever the number of rows."""
    marks = marks_for(campaign, document_type)
    for row in rows:
        row.marks = marks.get(row.organism.pk, row.marks)


def _due_matches(row: Row, due: str) -> bool:
    if due == LATE:
        return row.late
    if due == DUE_SOON:
        return row.due_soon
    if due == PROROGATED:
        return row.deadline is not None and row.deadline.prorogated
    if due == TO_STATE:
        return row.deadline is not None and row.deadline.day is None and not row.transmitted
    return True


def _urgency(row: Row) -> tuple:
    effective = row.deadline.effective if row.deadline else None
    if row.transmitted or not row.required:
        return (2, dt.date.max)
    return (0, effective) if effective else (1, dt.date.max)


def _activity(row: Row) -> tuple:
    d = row.dossier
    if d is None:
        return (0, 0.0, 0.0)
    transmitted = d.transmitted_at.timestamp() if d.transmitted_at else 0.0
    return (1, transmitted, d.updated_at.timestamp())


EXPORT_HEADERS = [
    "SIREN",
    "Raison sociale",
    "Famille",
    "Département",
    "Étape",
    "Sous-étape",
    "Contrôles bloquants en échec",
    "Date limite",
    "Prorogée",
    "En retard",
    "Dernière relance",
    "Transmis le",
    "Dernière modification",
    "À suivre",
]


# Exported moments are the local time of the platform (Europe/Paris), as the pages show them:
# typed dates in XLSX (Excel can sort and compute on them), jj/mm/aaaa hh:mm text in CSV.
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
CSV_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
CSV_DATE_FORMAT = "%d/%m/%Y"


def _deadline_cell(deadline: Deadline | None):
    """A typed date, or why it is still to be stated."""
    if deadline is None:
        return None
    if deadline.day is not None:
        return deadline.day
    return f"à préciser : {deadline.missing}"


def local_moment(moment: dt.datetime | None) -> dt.datetime | None:
    """An aware moment as the naive local date and time a spreadsheet cell holds."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None)


def csv_cell(value):
    """A cell of :func:`export_rows` as CSV text."""
    if isinstance(value, dt.datetime):
        return value.strftime(CSV_DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(CSV_DATE_FORMAT)
    return "" if value is None else value


def export_rows(rows: list[Row]) -> list[list]:
    """The export's rows: text and numbers, dates, and local naive datetimes (or None)."""
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
                _deadline_cell(r.deadline),
                "oui" if r.deadline and r.deadline.prorogated else "non",
                "oui" if r.late else "non",
                local_moment(r.last_reminded),
                local_moment(d.transmitted_at) if d else None,
                local_moment(d.updated_at) if d else None,
                "oui" if r.marks.follow_up else "non",
            ]
        )
    return out
