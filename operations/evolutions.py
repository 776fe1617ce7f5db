"""Evolution requests register ("maintenance évolutive", CCTP 3.5.2): its writes and the yearly
synthesis for the steering committee.

The operator's staff record every request and, after the steering committee, its priority,
person-days, cost and delay; CGLLS alone decides its situation (retenue, abandonnée, à décider:
only CGLLS orders an evolution); the staff mark a retained request delivered by the release that
brings it. A federation's request is, unless stated otherwise, carried out for every federation:
such a request covers every federation platform.

The census runs from September: the synthesis of year Y lists the requests made from 1 September
Y to 31 August Y+1, and the earlier ones still to decide or retained but not yet delivered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone

from operations.hotline import _workbook_bytes
from operations.models import (
    PLATFORM_CHOICES,
    EvolutionRequest,
    EvolutionStatus,
    Release,
    RequesterKind,
)
from tenants.platforms import PLATFORMS

FEDERATION_PLATFORMS = [spec.code for spec in PLATFORMS if spec.kind == "federation"]
CENSUS_MONTH = 9  # the census of requests starts in September

MSG_FUTURE = "La date de la demande ne peut pas être une date future."
MSG_ALL_FEDERATIONS = (
    "Seule une demande d'une fédération est mise en œuvre pour toutes les fédérations : "
    "décochez cette case ou choisissez l'origine « Fédération »."
)
MSG_NO_PLATFORM = "Cochez au moins une plateforme concernée."
MSG_NEGATIVE = "« {label} » ne peut pas être négatif."
MSG_DECISION = "Décision inconnue : choisissez « à décider », « retenue » ou « abandonnée »."
MSG_ALREADY_DELIVERED = (
    "La demande {number} est déjà réalisée (version {release}) : sa situation ne change plus."
)
MSG_NOT_RETAINED = (
    "Seule une demande retenue par la CGLLS peut être réalisée (situation de {number} : {status})."
)
MSG_RELEASE = "Choisissez la version qui livre l'évolution."

# fields the staff edit (the situation is CGLLS's, the delivery goes with its release)
EDITABLE = (
    "description", "requested_on", "requester", "requester_kind", "all_federations",
    "platforms", "priority", "person_days", "cost", "delay",
)  # fmt: skip
DECISIONS = (EvolutionStatus.TO_DECIDE, EvolutionStatus.RETAINED, EvolutionStatus.ABANDONED)


def _ordered_platforms(codes) -> list[str]:
    order = {code: i for i, (code, _) in enumerate(PLATFORM_CHOICES)}
    return sorted(set(codes), key=lambda code: order.get(code, 99))


def _check(request: EvolutionRequest) -> None:
    """Validate a request as a whole; ValidationError keyed by field, in French."""
    errors: dict[str, list[str]] = {}
    if request.all_federations:
        if request.requester_kind != RequesterKind.FEDERATION:
            errors["all_federations"] = [MSG_ALL_FEDERATIONS]
        else:
            request.platforms = [*request.platforms, *FEDERATION_PLATFORMS]
    request.platforms = _ordered_platforms(request.platforms)
    try:
        request.full_clean(exclude=["number", "created_by", "release"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if not request.platforms:
        errors["platforms"] = [MSG_NO_PLATFORM]
    if request.requested_on and request.requested_on > timezone.localdate():
        errors.setdefault("requested_on", [MSG_FUTURE])
    for name in ("person_days", "cost"):
        value = getattr(request, name)
        if value is not None and value < 0:
            label = EvolutionRequest._meta.get_field(name).verbose_name
            errors.setdefault(name, [MSG_NEGATIVE.format(label=label[0].upper() + label[1:])])
    if errors:
        raise ValidationError(errors)


def _next_number(year: int) -> str:
    prefix = f"EVO-{year}-"
    last = EvolutionRequest.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))
    sequence = int(last["m"].rsplit("-", 1)[1]) + 1 if last["m"] else 1
    return f"{prefix}{sequence:03d}"


@transaction.atomic
def evolution_request_create(*, by, **fields) -> EvolutionRequest:
    """Record a request (numbered EVO-<year>-NNN, year of the request); nothing is stored and
    ValidationError says why when a value is wrong (a description outside 20–40 words…)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"evolution_request_create: unexpected fields {sorted(unknown)}")
    request = EvolutionRequest(created_by=by, **fields)
    _check(request)
    with connection.cursor() as cursor:  # one number at a time
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('operations.evolution_number'))")
    request.number = _next_number(request.requested_on.year)
    request.save()
    return request


@transaction.atomic
def evolution_request_update(request: EvolutionRequest, *, by, **fields) -> EvolutionRequest:
    """Change what the staff hold of a request (description, requester, estimate…)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"evolution_request_update: unexpected fields {sorted(unknown)}")
    request = EvolutionRequest.objects.select_for_update().get(pk=request.pk)
    for name, value in fields.items():
        setattr(request, name, value)
    _check(request)
    request.save()
    return request


@transaction.atomic
def evolution_request_decide(request: EvolutionRequest, *, by, status: str) -> EvolutionRequest:
    """CGLLS's decision on a request: à décider, retenue or abandonnée."""
    request = EvolutionRequest.objects.select_for_update().get(pk=request.pk)
    if status not in DECISIONS:
        raise ValidationError({"status": MSG_DECISION})
    if request.status == EvolutionStatus.DELIVERED:
        raise ValidationError(
            {
                "status": MSG_ALREADY_DELIVERED.format(
                    number=request.number, release=request.release.number
                )
            }
        )
    request.status = status
    request.save(update_fields=["status"])
    return request


@transaction.atomic
def evolution_request_deliver(
    request: EvolutionRequest, *, by, release: Release | None
) -> EvolutionRequest:
    """A retained request delivered by ``release``: it becomes « réalisée »."""
    request = EvolutionRequest.objects.select_for_update().get(pk=request.pk)
    if release is None:
        raise ValidationError({"release": MSG_RELEASE})
    if request.status != EvolutionStatus.RETAINED:
        raise ValidationError(
            {
                "release": MSG_NOT_RETAINED.format(
                    number=request.number, status=request.get_status_display().lower()
                )
            }
        )
    request.status, request.release = EvolutionStatus.DELIVERED, release
    request.save(update_fields=["status", "release"])
    return request


# --- Yearly synthesis ---------------------------------------------------------------------------


def census_year(day: dt.date | None = None) -> int:
    """The census under way on ``day``: from September, that year's; before, last year's."""
    day = day or timezone.localdate()
    return day.year if day.month >= CENSUS_MONTH else day.year - 1


@dataclass
class StatusTotal:
    label: str
    count: int
    person_days: Decimal
    cost: Decimal


@dataclass
class EvolutionSynthesis:
    year: int
    start: dt.date
    end: dt.date  # included
    requests: list[EvolutionRequest]
    carried_over: list[EvolutionRequest]  # made before the census, still to decide or retained
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        return f"Synthèse des demandes d'évolution — recensement {self.year}-{self.year + 1}"

    @property
    def period_label(self) -> str:
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    @property
    def all_requests(self) -> list[EvolutionRequest]:
        return [*self.carried_over, *self.requests]

    @property
    def totals(self) -> list[StatusTotal]:
        rows = []
        for code, label in EvolutionStatus.choices:
            chosen = [r for r in self.all_requests if r.status == code]
            rows.append(
                StatusTotal(
                    label,
                    len(chosen),
                    sum((r.person_days or Decimal(0) for r in chosen), Decimal(0)),
                    sum((r.cost or Decimal(0) for r in chosen), Decimal(0)),
                )
            )
        return rows


def evolution_synthesis(year: int) -> EvolutionSynthesis:
    start, end = dt.date(year, CENSUS_MONTH, 1), dt.date(year + 1, CENSUS_MONTH, 1)
    base = EvolutionRequest.objects.select_related("release").order_by("requested_on", "number")
    requests = list(base.filter(requested_on__gte=start, requested_on__lt=end))
    carried = list(
        base.filter(requested_on__lt=start).filter(
            Q(status=EvolutionStatus.TO_DECIDE) | Q(status=EvolutionStatus.RETAINED)
        )
    )
    return EvolutionSynthesis(year, start, end - dt.timedelta(days=1), requests, carried)


def _context(synthesis: EvolutionSynthesis) -> dict:
    return {"synthesis": synthesis}


def synthesis_pdf(synthesis: EvolutionSynthesis) -> bytes:
    from weasyprint import HTML

    html = render_to_string("operations/reports/evolutions.html", _context(synthesis))
    return HTML(string=html).write_pdf()


XLSX_HEADER = [
    "N°", "Description", "Demandée le", "Demandeur principal", "Origine",
    "Toutes les fédérations", "Plateformes", "Priorité", "Jours/homme", "Coût (€ HT)",
    "Délai", "Situation", "Version de livraison",
]  # fmt: skip


def synthesis_xlsx(synthesis: EvolutionSynthesis) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "synthèse"
    summary.append([synthesis.title])
    summary.append([f"Demandes recensées {synthesis.period_label}"])
    summary.append([])
    summary.append(["Situation", "Demandes", "Jours/homme", "Coût (€ HT)"])
    header_row = summary.max_row
    for total in synthesis.totals:
        summary.append([total.label, total.count, total.person_days, total.cost])
        summary.cell(row=summary.max_row, column=3).number_format = "0.00"
        summary.cell(row=summary.max_row, column=4).number_format = "# ##0.00 €"
    summary.column_dimensions["A"].width = 30
    for cell in summary[1] + summary[header_row]:
        cell.font = Font(bold=True)

    sheet = workbook.create_sheet("demandes")
    sheet.append(XLSX_HEADER)
    for r in synthesis.all_requests:
        sheet.append(
            [
                r.number, r.description, r.requested_on, r.requester,
                r.get_requester_kind_display(), "Oui" if r.all_federations else "Non",
                ", ".join(r.platform_labels()), r.get_priority_display(), r.person_days,
                r.cost, r.delay, r.get_status_display(), r.release.number if r.release else "",
            ]
        )  # fmt: skip
        line = sheet.max_row
        sheet.cell(row=line, column=3).number_format = "dd/mm/yyyy"
        sheet.cell(row=line, column=10).number_format = "# ##0.00 €"
        sheet.cell(row=line, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 60
    sheet.freeze_panes = "A2"
    return _workbook_bytes(workbook)
