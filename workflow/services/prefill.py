"""What a dossier is prefilled with when it opens (reprise), and last year's transmitted
values it is compared with (écarts avec N-1).

The rules (field ← registry attribute, field ← last year's field) are the form version's
(``forms_cms.carryover``); this module makes the values: the registry's from the organism and
the campaign, last year's from the last transmission snapshot of the same organism's dossier
of the same document type for the previous exercise (``DossierExport.frozen_values`` and
``frozen_computed``: what was really sent, not what may have changed since).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from forms_cms.carryover import Origin, Rule
from forms_cms.engine import date_to_serial
from forms_cms.fields import FieldInfo, version_fields
from workflow.models import DossierExport

REGISTRY = "registry"  # Dossier.prefilled's mark of a registry value (else: the exercise)


@dataclass
class Prefill:
    values: dict[str, object] = field(default_factory=dict)
    marks: dict[str, object] = field(default_factory=dict)  # name → REGISTRY or exercise
    sources: dict[str, str] = field(default_factory=dict)  # name → where it came from


def previous_transmission(*, organism, document_type, exercise: int) -> DossierExport | None:
    """The last transmission snapshot of the organism's dossier of ``document_type`` for
    ``exercise`` (one query; its content left in the database)."""
    return (
        DossierExport.objects.filter(
            dossier__organism=organism,
            dossier__document_type=document_type,
            dossier__campaign__exercise=exercise,
            kind=DossierExport.Kind.XML,
            step_change__isnull=False,
        )
        .defer("content")
        .order_by("-requested_at", "-pk")
        .first()
    )


def transmitted_values(snapshot: DossierExport | None) -> dict:
    """The values and computed values a snapshot froze, in one dict."""
    if snapshot is None:
        return {}
    return {**(snapshot.frozen_computed or {}), **(snapshot.frozen_values or {})}


def _closing(organism, year: int) -> dt.date:
    day, month = (int(x) for x in organism.closing.split("/"))
    if month == 2 and day == 29 and year % 4:  # a 29 February closing in a common year
        day = 28
    return dt.date(year, month, day)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _family_choice(organism, info: FieldInfo) -> str | None:
    """The field's choice naming the organism's family (« SEM / EPL » for EPL), else
    « Autre » when the list has it, else None (left empty)."""
    code, label = organism.family, organism.get_family_display()
    for choice in info.choices:
        if _plain(choice) in (_plain(code), _plain(label)):
            return choice
    for choice in info.choices:
        if _plain(code) in _plain(choice).split():
            return choice
    return next((c for c in info.choices if _plain(c) == "autre"), None)


def registry_value(attribute: str, info: FieldInfo, *, organism, exercise: int):
    """The registry's value of ``attribute`` as field ``info`` stores it, or None."""
    if attribute == "siren":
        value = organism.siren
    elif attribute == "name":
        value = organism.name
    elif attribute == "departement":
        value = organism.departement
    elif attribute == "family":
        if info.data_type == "choice":
            return _family_choice(organism, info)
        value = organism.family
    elif attribute == "exercise":
        value = exercise
    elif attribute in ("closing_date", "opening_date"):
        if attribute == "closing_date":
            day = _closing(organism, exercise)
        else:
            day = _closing(organism, exercise - 1) + dt.timedelta(days=1)
        if info.data_type == "date":
            return float(date_to_serial(day))
        value = day.strftime("%d/%m/%Y")
    else:
        return None
    if info.data_type in ("amount", "integer"):
        try:
            return int(value) if info.data_type == "integer" else float(value)
        except (TypeError, ValueError):
            return None
    if info.data_type == "choice":
        return str(value) if str(value) in info.choices else None
    return str(value)


def _fits(value, info: FieldInfo) -> bool:
    """Last year's value fits this year's field (a number in a number field…)."""
    if value is None or value == "" or value.__class__ is list:
        return False
    if info.data_type in ("amount", "integer", "percentage", "date"):
        return value.__class__ in (int, float)
    if info.data_type == "choice":
        return value in info.choices
    return value.__class__ is str


def prefill_values(*, dossier, rules: list[Rule], previous: DossierExport | None) -> Prefill:
    """What to write in the dossier's empty input fields; nothing for a field holding a
    value (a dossier reopened or migrated keeps what it has)."""
    fields = version_fields(dossier.form_version)
    exercise = dossier.campaign.exercise
    last_year = transmitted_values(previous)
    out = Prefill()
    for rule in rules:
        info = fields.get(rule.target)
        if info is None or info.computed:
            continue
        current = dossier.values.get(rule.target)
        if current is not None and current != "":
            continue
        if rule.origin == Origin.REGISTRY:
            value = registry_value(rule.source, info, organism=dossier.organism, exercise=exercise)
            mark, source = REGISTRY, f"répertoire : {rule.source}"
        else:
            value = last_year.get(rule.source)
            mark, source = exercise - 1, f"{rule.source} de l'exercice {exercise - 1}"
            if not _fits(value, info):
                continue
        if value is None or value == "":
            continue
        out.values[rule.target] = value
        out.marks[rule.target] = mark
        out.sources[rule.target] = source
    return out
