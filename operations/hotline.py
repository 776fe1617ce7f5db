"""Hotline log: the monthly report (figures, PDF, XLSX) and the per-call detail export.

:func:`monthly_report` computes the figures as plain data; :func:`report_pdf` and
:func:`report_xlsx` lay them out. "Since the start" counts from the start of the contract
(``HARMONIA_CONTRACT_START``), or from 1 January of the month's year when it is not configured.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from forms_cms.formats import MONTHS, NBSP, format_number, month_abbr
from operations.models import (
    HOTLINE_PLATFORM_CHOICES,
    HotlineChannel,
    HotlineContact,
    HotlineStatus,
    HotlineSubject,
)

MONTHS_FR = list(MONTHS)
PLATFORM_LABELS = dict(HOTLINE_PLATFORM_CHOICES)


def percent_fr(value: float) -> str:
    """12.5 → "12,5 %" (one decimal, French comma, no-break space)."""
    return format_number(value, 1) + NBSP + "%"  # rounded as Excel does: 12,25 → 12,3


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


@dataclass
class SubjectShare:
    code: str
    label: str
    count: int
    share: float  # percent of the month's contacts

    @property
    def share_fr(self) -> str:
        return percent_fr(self.share)


@dataclass
class HotlineReport:
    year: int
    month: int
    period_count: int
    since_start_count: int
    resolved_in_period: int
    subjects: list[SubjectShare]
    unresolved: list[HotlineContact]
    per_month: list[tuple[str, int]]  # (label, count) from January to the month
    since: dt.date | None = None  # where "since the start" counts from (count_start)
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def month_label(self) -> str:
        return f"{MONTHS_FR[self.month - 1]} {self.year}"

    @property
    def since_label(self) -> str:
        if self.since == dt.date(self.year, 1, 1):
            return f"Contacts depuis le 1er janvier {self.year}"
        return f"Contacts depuis le début du marché ({self.since:%d/%m/%Y})"


def count_start(year: int) -> dt.date:
    """Where "since the start" counts from: the contract's first day when configured,
    else 1 January of the report's year."""
    return settings.HARMONIA_CONTRACT_START or dt.date(year, 1, 1)


def monthly_report(year: int, month: int) -> HotlineReport:
    start, end = month_bounds(year, month)
    year_start, _ = month_bounds(year, 1)
    period = HotlineContact.objects.filter(received_at__gte=start, received_at__lt=end)
    period_count = period.count()
    by_subject = dict(period.values_list("subject").annotate(n=Count("id")).order_by())
    subjects = [
        SubjectShare(
            code,
            label,
            by_subject.get(code, 0),
            100 * by_subject.get(code, 0) / period_count if period_count else 0.0,
        )
        for code, label in HotlineSubject.choices
    ]
    since = count_start(year)
    since_start = HotlineContact.objects.filter(
        received_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=start.tzinfo),
        received_at__lt=end,
    )
    this_year = HotlineContact.objects.filter(received_at__gte=year_start, received_at__lt=end)
    unresolved = list(
        HotlineContact.objects.filter(received_at__lt=end)
        .exclude(status=HotlineStatus.RESOLVED)
        .order_by("received_at", "id")
    )
    months = {
        timezone.localtime(m).month if timezone.is_aware(m) else m.month: n
        for m, n in this_year.annotate(m=TruncMonth("received_at"))
        .values_list("m")
        .annotate(n=Count("id"))
        .order_by()
    }
    per_month = [(month_abbr(m), months.get(m, 0)) for m in range(1, month + 1)]
    return HotlineReport(
        year=year,
        month=month,
        period_count=period_count,
        since_start_count=since_start.count(),
        resolved_in_period=period.filter(status=HotlineStatus.RESOLVED).count(),
        subjects=subjects,
        unresolved=unresolved,
        per_month=per_month,
        since=since,
    )


def bar_chart_svg(per_month: list[tuple[str, int]], width: int = 520, height: int = 180) -> str:
    """An inline SVG bar chart: one bar per month with its count above."""
    top = max((n for _, n in per_month), default=0) or 1
    slot = width / max(len(per_month), 1)
    bar, base = slot * 0.6, height - 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Contacts par mois">',
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#444"/>',
    ]
    for i, (label, n) in enumerate(per_month):
        h = (base - 20) * n / top
        x = i * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="#3558a2"/>'
            f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{n}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{height - 5}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _dt(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def report_html(report: HotlineReport) -> str:
    subjects = "".join(
        f"<tr><td>{escape(s.label)}</td><td class=n>{s.count}</td>"
        f"<td class=n>{s.share_fr}</td></tr>"
        for s in report.subjects
    )
    unresolved = (
        "".join(
            f"<tr><td>{_dt(c.received_at)}</td>"
            f"<td>{escape(PLATFORM_LABELS.get(c.platform, c.platform))}</td>"
            f"<td>{escape(c.caller_name)}</td><td>{escape(c.organism_name)}</td>"
            f"<td>{escape(c.get_subject_display())}</td>"
            f"<td>{escape(c.get_status_display())}</td></tr>"
            for c in report.unresolved
        )
        or '<tr><td colspan="6">Aucun contact non résolu.</td></tr>'
    )
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; margin-bottom: 8mm; }}
td, th {{ border: 1px solid #999; padding: 2px 6px; text-align: left; }}
td.n {{ text-align: right; }}
</style></head><body>
<h1>Hotline — rapport mensuel de {escape(report.month_label)}</h1>
<p>Établi le {_dt(report.generated_at)}.</p>
<table>
<tr><th>Contacts du mois</th><td class=n>{report.period_count}</td></tr>
<tr><th>{escape(report.since_label)}</th>
<td class=n>{report.since_start_count}</td></tr>
<tr><th>Contacts du mois résolus</th><td class=n>{report.resolved_in_period}</td></tr>
<tr><th>Contacts non résolus</th><td class=n>{len(report.unresolved)}</td></tr>
</table>
<h2>Répartition par sujet</h2>
<table><tr><th>Sujet</th><th>Contacts</th><th>Part</th></tr>{subjects}</table>
<h2>Contacts par mois</h2>
{bar_chart_svg(report.per_month)}
<h2>Contacts non résolus</h2>
<table><tr><th>Reçu le</th><th>Plateforme</th><th>Appelant</th><th>Organisme</th><th>Sujet</th>
<th>Statut</th></tr>{unresolved}</table>
</body></html>"""


def report_pdf(report: HotlineReport) -> bytes:
    from weasyprint import HTML

    return HTML(string=report_html(report)).write_pdf()


def _workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_xlsx(report: HotlineReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "synthèse"
    summary.append([f"Hotline — rapport mensuel de {report.month_label}"])
    summary["A1"].font = Font(bold=True)
    summary.append(["Contacts du mois", report.period_count])
    summary.append([report.since_label, report.since_start_count])
    summary.append(["Contacts du mois résolus", report.resolved_in_period])
    summary.append(["Contacts non résolus", len(report.unresolved)])
    summary.append([])
    summary.append(["Mois", "Contacts"])
    for label, n in report.per_month:
        summary.append([label, n])
    summary.column_dimensions["A"].width = 40

    subjects = workbook.create_sheet("par sujet")
    subjects.append(["Sujet", "Contacts", "Part"])
    for s in report.subjects:
        subjects.append([s.label, s.count, s.share / 100])
        subjects.cell(row=subjects.max_row, column=3).number_format = "0.0 %"
    subjects.column_dimensions["A"].width = 25

    unresolved = workbook.create_sheet("non résolus")
    unresolved.append(["Reçu le", "Plateforme", "Appelant", "Organisme", "Sujet", "Statut"])
    for c in report.unresolved:
        unresolved.append(
            [
                timezone.localtime(c.received_at).replace(tzinfo=None),
                PLATFORM_LABELS.get(c.platform, c.platform),
                c.caller_name,
                c.organism_name,
                c.get_subject_display(),
                c.get_status_display(),
            ]
        )
        unresolved.cell(row=unresolved.max_row, column=1).number_format = "dd/mm/yyyy hh:mm"
    for sheet in (summary, subjects, unresolved):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    return _workbook_bytes(workbook)


DETAIL_HEADER = [
    "Reçu le", "Canal", "Plateforme", "Appelant", "Organisme", "SIREN", "Sujet",
    "Description", "Statut", "Résolution", "Résolu le",
]  # fmt: skip


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """A moment as the naive local (Europe/Paris) date and time a spreadsheet cell holds."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _detail_rows(contacts, *, typed: bool = False) -> list[list]:
    """The detail's rows; moments as text (CSV) or as local datetimes (``typed``, XLSX)."""
    moment = _local if typed else _dt
    channels = dict(HotlineChannel.choices)
    return [
        [
            moment(c.received_at),
            channels.get(c.channel, c.channel),
            PLATFORM_LABELS.get(c.platform, c.platform),
            c.caller_name,
            c.organism_name,
            c.siren,
            c.get_subject_display(),
            c.description,
            c.get_status_display(),
            c.resolution,
            moment(c.resolved_at),
        ]
        for c in contacts
    ]


def detail_export(contacts, fmt: str) -> bytes:
    """The per-call detail of ``contacts`` as CSV (``;``, UTF-8 with BOM) or XLSX (dates as
    Excel dates in local time)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(DETAIL_HEADER)
        writer.writerows(_detail_rows(contacts))
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "contacts"
    sheet.append(DETAIL_HEADER)
    for row in _detail_rows(contacts, typed=True):
        sheet.append(row)
        for column in (1, 11):
            sheet.cell(row=sheet.max_row, column=column).number_format = "dd/mm/yyyy hh:mm"
    return _workbook_bytes(workbook)
