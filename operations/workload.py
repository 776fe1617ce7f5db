"""Form-integration workload (CCTP 3.2.6 a): the time the operator spends testing and
integrating the Excel forms of the five platforms, against the person-days a year included in
corrective maintenance (``HARMONIA_FORM_WORK_DAYS``, 30; beyond, evolutive maintenance).

The report follows the year platform by platform and form version by form version. It is due to
the project committee once a month, and twice a month in May, June and July (the campaign
months): a *period* is a month, or a half of one of those months (1–15, 16–end).
:func:`workload_report_send` e-mails it (PDF and XLSX attached) to the configured committee
addresses (``HARMONIA_PROJECT_COMMITTEE_EMAILS``) through Django's mail system; the scheduled
job of ``operations.tasks`` sends each period's report when the period ends.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from operations.hotline import MONTHS_FR, _workbook_bytes
from operations.models import PLATFORM_CHOICES, FormWorkEntry

HALF_MONTHS = (5, 6, 7)  # May, June, July: reported twice a month
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MSG_FUTURE = "La date ne peut pas être une date future."
MSG_PERIOD = (
    "Période inconnue : choisissez un mois (2026-03) ou, en mai, juin et juillet, une "
    "quinzaine (2026-05-1 ou 2026-05-2)."
)
MSG_PERIOD_NOT_STARTED = "Cette période n'a pas encore commencé : choisissez une période passée."
MSG_NO_COMMITTEE = (
    "Aucune adresse du comité de projet n'est configurée (HARMONIA_PROJECT_COMMITTEE_EMAILS) : "
    "le rapport n'est pas envoyé."
)


def annual_budget() -> Decimal:
    return Decimal(settings.HARMONIA_FORM_WORK_DAYS)


# --- Periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A month (``half`` 0), or its first (1) or second (2) half in May, June and July."""

    year: int
    month: int
    half: int = 0

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 16 if self.half == 2 else 1)

    @property
    def end(self) -> dt.date:
        """The last day, included."""
        if self.half == 1:
            return dt.date(self.year, self.month, 15)
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def code(self) -> str:
        return f"{self.year}-{self.month:02d}" + (f"-{self.half}" if self.half else "")

    @property
    def label(self) -> str:
        month = f"{MONTHS_FR[self.month - 1]} {self.year}"
        if self.half == 1:
            return f"{month}, 1re quinzaine (du 1er au 15)"
        if self.half == 2:
            return f"{month}, 2de quinzaine (du 16 au {self.end.day})"
        return month


def periods_of(year: int) -> list[Period]:
    periods = []
    for month in range(1, 13):
        if month in HALF_MONTHS:
            periods += [Period(year, month, 1), Period(year, month, 2)]
        else:
            periods.append(Period(year, month))
    return periods


def period_containing(day: dt.date) -> Period:
    if day.month in HALF_MONTHS:
        return Period(day.year, day.month, 1 if day.day <= 15 else 2)
    return Period(day.year, day.month)


def period_before(period: Period) -> Period:
    return period_containing(period.start - dt.timedelta(days=1))


_CODE = re.compile(r"^(\d{4})-(\d{2})(?:-([12]))?$")


def parse_period(code: str, *, today: dt.date | None = None) -> Period:
    """A period from its code; ValidationError (French) when unknown or not yet begun."""
    found = _CODE.match((code or "").strip())
    if not found:
        raise ValidationError(MSG_PERIOD)
    year, month, half = int(found[1]), int(found[2]), int(found[3] or 0)
    if not (2000 <= year <= 2100 and 1 <= month <= 12) or (half != 0) != (month in HALF_MONTHS):
        raise ValidationError(MSG_PERIOD)
    period = Period(year, month, half)
    if period.start > (today or timezone.localdate()):
        raise ValidationError(MSG_PERIOD_NOT_STARTED)
    return period


# --- Entries ------------------------------------------------------------------------------------


@transaction.atomic
def form_work_entry_create(*, by, **fields) -> FormWorkEntry:
    """Record time spent on a form version; ValidationError (French, by field) and nothing
    stored when a value is wrong."""
    entry = FormWorkEntry(created_by=by, **fields)
    errors: dict[str, list[str]] = {}
    try:
        entry.full_clean(exclude=["created_by"])
    except ValidationError as error:
        errors = error.message_dict
    if entry.day and entry.day > timezone.localdate():
        errors.setdefault("day", [MSG_FUTURE])
    if errors:
        raise ValidationError(errors)
    entry.save()
    return entry


def form_work_entry_delete(entry: FormWorkEntry, *, by) -> None:
    entry.delete()


# --- Report -------------------------------------------------------------------------------------


@dataclass
class VersionLine:
    platform_label: str
    form_version: str
    period: Decimal
    year: Decimal


@dataclass
class PlatformLine:
    code: str
    label: str
    period: Decimal
    year: Decimal


@dataclass
class WorkloadReport:
    period: Period
    budget: Decimal
    platforms: list[PlatformLine]
    versions: list[VersionLine]
    entries: list[FormWorkEntry]  # of the period
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        return f"Suivi des temps d'intégration des formulaires — {self.period.label}"

    @property
    def period_total(self) -> Decimal:
        return sum((line.period for line in self.platforms), Decimal(0))

    @property
    def year_total(self) -> Decimal:
        return sum((line.year for line in self.platforms), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return max(self.budget - self.year_total, Decimal(0))

    @property
    def overrun(self) -> Decimal:
        """Person-days beyond the yearly allowance (evolutive maintenance)."""
        return max(self.year_total - self.budget, Decimal(0))

    @property
    def used_share(self) -> float:
        return float(100 * self.year_total / self.budget) if self.budget else 0.0


def workload_report(period: Period) -> WorkloadReport:
    """The period's entries and, per platform and per form version, the time of the period and
    of the year up to the period's end."""
    year_entries = list(
        FormWorkEntry.objects.filter(
            day__gte=dt.date(period.year, 1, 1), day__lte=period.end
        ).order_by("day", "id")
    )
    in_period = [e for e in year_entries if e.day >= period.start]
    labels = dict(PLATFORM_CHOICES)
    platforms = [
        PlatformLine(
            code,
            label,
            sum((e.person_days for e in in_period if e.platform == code), Decimal(0)),
            sum((e.person_days for e in year_entries if e.platform == code), Decimal(0)),
        )
        for code, label in PLATFORM_CHOICES
    ]
    order = [code for code, _ in PLATFORM_CHOICES]
    by_version_period: dict[tuple[str, str], Decimal] = {}
    by_version_year: dict[tuple[str, str], Decimal] = {}
    for e in year_entries:
        key = (e.platform, e.form_version)
        by_version_year[key] = by_version_year.get(key, Decimal(0)) + e.person_days
        if e.day >= period.start:
            by_version_period[key] = by_version_period.get(key, Decimal(0)) + e.person_days
    versions = [
        VersionLine(labels[code], version, by_version_period.get((code, version), Decimal(0)), n)
        for (code, version), n in sorted(
            by_version_year.items(), key=lambda item: (order.index(item[0][0]), item[0][1].lower())
        )
    ]
    return WorkloadReport(period, annual_budget(), platforms, versions, in_period)


def report_pdf(report: WorkloadReport) -> bytes:
    from weasyprint import HTML

    html = render_to_string("operations/reports/workload.html", {"report": report})
    return HTML(string=html).write_pdf()


def report_xlsx(report: WorkloadReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "synthèse"
    summary.append([report.title])
    period = report.period
    summary.append(["Période", f"du {period.start:%d/%m/%Y} au {period.end:%d/%m/%Y}"])
    summary.append(["Forfait annuel (jours/homme)", report.budget])
    summary.append([f"Consommés depuis le 1er janvier {report.period.year}", report.year_total])
    summary.append(["Restants", report.remaining])
    summary.append(["Au-delà du forfait (maintenance évolutive)", report.overrun])
    summary.append([])
    summary.append(["Plateforme", "Période (j/h)", "Depuis le 1er janvier (j/h)"])
    header_row = summary.max_row
    for line in report.platforms:
        summary.append([line.label, line.period, line.year])
    summary.append(["Total", report.period_total, report.year_total])
    for row in summary.iter_rows(min_row=3, min_col=2, max_col=3):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
    summary.column_dimensions["A"].width = 45
    for cell in summary[1] + summary[header_row]:
        cell.font = Font(bold=True)

    versions = workbook.create_sheet("par version")
    versions.append(["Plateforme", "Formulaire et version", "Période (j/h)", "Année (j/h)"])
    for line in report.versions:
        versions.append([line.platform_label, line.form_version, line.period, line.year])
    versions.column_dimensions["A"].width = 30
    versions.column_dimensions["B"].width = 30

    entries = workbook.create_sheet("détail")
    entries.append(["Date", "Plateforme", "Formulaire et version", "Jours/homme", "Travaux"])
    for e in report.entries:
        entries.append(
            [e.day, e.get_platform_display(), e.form_version, e.person_days, e.description]
        )
        entries.cell(row=entries.max_row, column=1).number_format = "dd/mm/yyyy"
        entries.cell(row=entries.max_row, column=5).alignment = Alignment(wrap_text=True)
    entries.column_dimensions["E"].width = 60
    for sheet in (versions, entries):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    return _workbook_bytes(workbook)


def committee_configured() -> bool:
    return bool(settings.HARMONIA_PROJECT_COMMITTEE_EMAILS)


def workload_report_send(period: Period) -> int:
    """E-mail the period's report (PDF and XLSX attached) to the project committee's
    configured addresses; returns how many. ValidationError when none is configured."""
    recipients = list(settings.HARMONIA_PROJECT_COMMITTEE_EMAILS)
    if not recipients:
        raise ValidationError(MSG_NO_COMMITTEE)
    report = workload_report(period)
    context = {"report": report}
    message = EmailMessage(
        subject=f"[Harmonia] Suivi des temps d'intégration des formulaires — {period.label}",
        body=render_to_string("operations/email/workload_body.txt", context),
        to=recipients,
    )
    name = f"integration-formulaires-{period.code}"
    message.attach(f"{name}.pdf", report_pdf(report), "application/pdf")
    message.attach(f"{name}.xlsx", report_xlsx(report), XLSX)
    message.send()
    return len(recipients)
