"""Monthly synthesis of anomalies ("synthèse mensuelle des anomalies"): figures, PDF, XLSX.

:func:`monthly_synthesis` computes plain data; :func:`synthesis_pdf` and :func:`synthesis_xlsx`
lay it out for readers who are not specialists of the tracker.

The synthesis describes the situation at the end of the chosen month (or now, for the current
month): the anomalies found by then and still unresolved, and those resolved between 1 January
of that year and then. An anomaly counts as resolved when its current status is "corrigée en
production" or "close"; its resolution date is the production fix date, or, for an anomaly
closed without one, the day of the event that closed it. Severity is the current one (after any
reclassification). An anomaly reopened after being resolved counts as open throughout: the
tracker does not keep the fix dates of earlier resolutions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape

from django.db.models import Q
from django.utils import timezone

from operations.deadlines import MINOR_TARGET_SHARE, anomaly_deadline, anomaly_target
from operations.hotline import MONTHS_FR, _workbook_bytes, month_bounds, percent_fr
from operations.models import RESOLVED_STATUSES, Anomaly, Severity, Status

SEVERITY_ORDER = [Severity.CRITICAL, Severity.MAJOR, Severity.MINOR]
STATUS_LABELS = dict(Status.choices)
TARGET_LABEL = f"{round(MINOR_TARGET_SHARE * 100)}\u00a0%"
DEADLINES_TEXT = (
    "Délais de correction, comptés à partir de la prise en compte de l'anomalie : "
    "critique (bloquante) 1 heure, majeure 24 heures, mineure 14 jours, "
    f"avec l'objectif d'en corriger au moins {TARGET_LABEL} en 7 jours."
)


def date_fr(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def datetime_fr(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


def yes_no(value: bool | None) -> str:
    return "—" if value is None else ("Oui" if value else "Non")


@dataclass
class SynthesisRow:
    number: str
    short_description: str
    severity: str
    severity_label: str
    status_label: str
    found_on: dt.date
    fixed_test_on: dt.date | None  # blank when after the synthesis date
    fixed_prod_on: dt.date | None  # idem
    release_version: str
    reporter: str
    platforms: list[str]  # labels
    deadline: dt.datetime | None  # None while not acknowledged
    overdue: bool | None  # open: late now; resolved: fixed late; None without a deadline
    resolved_on: dt.date | None = None

    @property
    def platforms_label(self) -> str:
        return ", ".join(self.platforms)


@dataclass
class SeverityCount:
    code: str
    label: str
    open: int
    resolved: int

    @property
    def total(self) -> int:
        return self.open + self.resolved


@dataclass
class MinorRule:
    """The minor-anomaly rule: ``MINOR_TARGET_SHARE`` of them fixed within 7 days, all within
    14 days. ``measured`` counts the minor anomalies resolved since 1 January plus those still
    open whose 7 days have already passed (they have missed the target whatever happens)."""

    measured: int
    within_target: int
    beyond_deadline: int  # resolved after 14 days, or open and past 14 days

    @property
    def share(self) -> float | None:
        return 100 * self.within_target / self.measured if self.measured else None

    @property
    def share_fr(self) -> str:
        return "sans objet" if self.share is None else percent_fr(self.share)

    @property
    def target_met(self) -> bool | None:
        if self.share is None:
            return None
        return self.share >= MINOR_TARGET_SHARE * 100

    @property
    def all_within_deadline(self) -> bool:
        return self.beyond_deadline == 0


@dataclass
class AnomalySynthesis:
    year: int
    month: int
    as_of: dt.datetime  # end of the month, or the time of production for the current month
    as_of_date: dt.date
    open: list[SynthesisRow]
    resolved: list[SynthesisRow]
    by_severity: list[SeverityCount]
    minor: MinorRule
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def month_label(self) -> str:
        return f"{MONTHS_FR[self.month - 1]} {self.year}"

    @property
    def total(self) -> int:
        return len(self.open) + len(self.resolved)

    @property
    def overdue_open(self) -> int:
        return sum(1 for row in self.open if row.overdue)

    @property
    def late_resolved(self) -> int:
        return sum(1 for row in self.resolved if row.overdue)

    @property
    def overdue_count(self) -> int:
        return self.overdue_open + self.late_resolved


def _resolution(anomaly: Anomaly, events) -> tuple[dt.date | None, dt.datetime | None]:
    """(date, instant) the anomaly was resolved; (None, None) while it is not.

    The instant is the resolving event's time when that event falls on the resolution date;
    otherwise (a date corrected by hand) the start of that day, so a same-day fix is on time."""
    if anomaly.status not in RESOLVED_STATUSES:
        return None, None
    closing = next((e for e in reversed(events) if e.new_status in RESOLVED_STATUSES), None)
    if anomaly.fixed_prod_on:
        day = anomaly.fixed_prod_on
    elif closing is not None:
        day = timezone.localdate(closing.at)
    else:
        day = timezone.localdate(anomaly.created_at)
    if closing is not None and timezone.localdate(closing.at) == day:
        return day, closing.at
    return day, dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _status_at(anomaly: Anomaly, events, as_of: dt.datetime, resolved: bool) -> str:
    """The status at ``as_of`` from the history; the current one when the history has none or
    contradicts the dates (fix dates corrected by hand afterwards)."""
    changes = [e.new_status for e in events if e.new_status]
    if not changes:
        return anomaly.status
    before = [e.new_status for e in events if e.new_status and e.at < as_of]
    status = before[-1] if before else Status.NEW  # not yet recorded in the tracker
    if (status in RESOLVED_STATUSES) != resolved:
        status = anomaly.status
    return status


def _row(anomaly, *, status, as_of_date, deadline, overdue, resolved_on=None):
    def until(day):
        return day if day and day <= as_of_date else None

    return SynthesisRow(
        number=anomaly.number,
        short_description=anomaly.short_description,
        severity=anomaly.severity,
        severity_label=anomaly.get_severity_display(),
        status_label=STATUS_LABELS.get(status, status),
        found_on=anomaly.found_on,
        fixed_test_on=until(anomaly.fixed_test_on),
        fixed_prod_on=until(anomaly.fixed_prod_on),
        release_version=anomaly.release.number if anomaly.release_id else "",
        reporter=anomaly.reporter,
        platforms=anomaly.platform_labels(),
        deadline=deadline,
        overdue=overdue,
        resolved_on=resolved_on,
    )


def monthly_synthesis(
    year: int, month: int, *, now: dt.datetime | None = None, platforms: list[str] | None = None
) -> AnomalySynthesis:
    """The synthesis of ``month`` of ``year``; a month not yet begun is refused (ValueError).
    With ``platforms``, only the anomalies of those platforms (a correspondent's)."""
    now = now or timezone.now()
    start, end = month_bounds(year, month)
    if start > now:
        raise ValueError("Ce mois n'a pas encore commencé.")
    if end <= now:
        as_of, as_of_date = end, (end - dt.timedelta(days=1)).date()
    else:
        as_of, as_of_date = now, timezone.localdate(now)
    year_start = dt.date(year, 1, 1)

    # Anomalies found by then, less those already fixed in production before 1 January
    # (closed ones without a fix date are sorted out below, from their history).
    candidates = (
        Anomaly.objects.filter(found_on__lte=as_of_date)
        .exclude(Q(status__in=RESOLVED_STATUSES) & Q(fixed_prod_on__lt=year_start))
        .select_related("release")
        .prefetch_related("events")
    )
    if platforms is not None:
        candidates = candidates.filter(platforms__overlap=platforms)
    open_rows: list[SynthesisRow] = []
    resolved_rows: list[SynthesisRow] = []
    measured = within_target = beyond_deadline = 0
    for anomaly in candidates:
        events = list(anomaly.events.all())  # ordered by time (model Meta)
        acknowledged = anomaly.acknowledged_at
        if acknowledged and acknowledged >= as_of:
            acknowledged = None  # acknowledged only after the synthesis date: no deadline yet
        deadline = anomaly_deadline(anomaly.severity, acknowledged)
        target = anomaly_target(anomaly.severity, acknowledged)
        resolved_on, resolved_at = _resolution(anomaly, events)
        is_resolved = resolved_on is not None and resolved_on <= as_of_date
        if is_resolved and resolved_on < year_start:
            continue
        # The moment the deadline is judged at: the fix for a resolved one, else the date of
        # the synthesis. Strictly after the deadline is late, as in deadlines.is_overdue.
        moment = resolved_at if is_resolved else as_of
        overdue = None if deadline is None else moment > deadline
        status = _status_at(anomaly, events, as_of, is_resolved)
        row = _row(
            anomaly,
            status=status,
            as_of_date=as_of_date,
            deadline=deadline,
            overdue=overdue,
            resolved_on=resolved_on if is_resolved else None,
        )
        (resolved_rows if is_resolved else open_rows).append(row)
        if anomaly.severity == Severity.MINOR and target is not None:
            if is_resolved:
                measured += 1
                within_target += moment <= target
            elif moment > target:
                measured += 1
            beyond_deadline += bool(overdue)

    rank = {code: i for i, code in enumerate(SEVERITY_ORDER)}
    open_rows.sort(key=lambda r: (rank.get(r.severity, 9), r.found_on, r.number))
    resolved_rows.sort(key=lambda r: (r.resolved_on, r.number))
    by_severity = [
        SeverityCount(
            code=code,
            label=code.label,
            open=sum(1 for r in open_rows if r.severity == code),
            resolved=sum(1 for r in resolved_rows if r.severity == code),
        )
        for code in SEVERITY_ORDER
    ]
    return AnomalySynthesis(
        year=year,
        month=month,
        as_of=as_of,
        as_of_date=as_of_date,
        open=open_rows,
        resolved=resolved_rows,
        by_severity=by_severity,
        minor=MinorRule(measured, within_target, beyond_deadline),
    )


# --- Layout -----------------------------------------------------------------------------------


def minor_rule_lines(synthesis: AnomalySynthesis) -> list[tuple[str, str]]:
    """The minor-anomaly rule in words, shared by the PDF and the page."""
    minor = synthesis.minor
    if minor.target_met is None:
        verdict = "sans objet (aucune anomalie mineure à mesurer)"
    else:
        verdict = "atteint" if minor.target_met else "non atteint"
    return [
        (
            "Anomalies mineures corrigées en 7 jours au plus",
            f"{minor.share_fr} ({minor.within_target} sur {minor.measured}) — "
            f"objectif {TARGET_LABEL} : {verdict}",
        ),
        (
            "Toutes les anomalies mineures corrigées en 14 jours au plus",
            "oui"
            if minor.all_within_deadline
            else f"non ({minor.beyond_deadline} au-delà de 14 jours)",
        ),
    ]


COLUMNS = [
    "N°", "Description", "Gravité", "Statut", "Constatée le", "Corrigée en recette le",
    "Corrigée en production le", "Version", "Signalée par", "Plateformes", "Échéance",
]  # fmt: skip


def late_cell(overdue: bool | None) -> str:
    return "<strong>Oui</strong>" if overdue else yes_no(overdue)


def _html_rows(rows: list[SynthesisRow], *, resolved: bool) -> str:
    cells = []
    for r in rows:
        extra = f"<td>{date_fr(r.resolved_on)}</td>" if resolved else ""
        cells.append(
            f"<tr><td class=nw>{escape(r.number)}</td><td>{escape(r.short_description)}</td>"
            f"<td>{escape(r.severity_label)}</td><td>{escape(r.status_label)}</td>"
            f"<td>{date_fr(r.found_on)}</td><td>{date_fr(r.fixed_test_on)}</td>"
            f"<td>{date_fr(r.fixed_prod_on)}</td><td>{escape(r.release_version or '—')}</td>"
            f"<td>{escape(r.reporter)}</td><td>{escape(r.platforms_label)}</td>"
            f"<td>{datetime_fr(r.deadline)}</td>{extra}<td>{late_cell(r.overdue)}</td></tr>"
        )
    span = len(COLUMNS) + (2 if resolved else 1)
    body = "".join(cells) or f'<tr><td colspan="{span}">Aucune anomalie.</td></tr>'
    late = "Corrigée hors délai" if resolved else "En retard"
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    head += ("<th>Résolue le</th>" if resolved else "") + f"<th>{late}</th>"
    return f"<table class=list><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def synthesis_html(synthesis: AnomalySynthesis) -> str:
    s = synthesis
    severities = "".join(
        f"<tr><td>{escape(c.label)}</td><td class=n>{c.open}</td><td class=n>{c.resolved}</td>"
        f"<td class=n>{c.total}</td></tr>"
        for c in s.by_severity
    )
    minor = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(text)}</td></tr>"
        for label, text in minor_rule_lines(s)
    )
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 9pt; }}
table {{ border-collapse: collapse; margin-bottom: 6mm; }}
td, th {{ border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; }}
td.nw {{ white-space: nowrap; }}
table.list {{ width: 100%; font-size: 7.5pt; }}
table.list td:nth-child(2) {{ width: 28%; }}
</style></head><body>
<h1>Synthèse mensuelle des anomalies — {escape(s.month_label)}</h1>
<p>Situation au {date_fr(s.as_of_date)} ; établie le {datetime_fr(s.generated_at)}.
{escape(DEADLINES_TEXT)}</p>
<table>
<tr><th>Gravité</th><th>Ouvertes</th><th>Résolues depuis le 1er janvier {s.year}</th>
<th>Total</th></tr>
{severities}
<tr><th>Total</th><td class=n>{len(s.open)}</td><td class=n>{len(s.resolved)}</td>
<td class=n>{s.total}</td></tr>
</table>
<table>
<tr><th>Anomalies ouvertes en retard</th><td class=n>{s.overdue_open}</td></tr>
<tr><th>Anomalies résolues hors délai</th><td class=n>{s.late_resolved}</td></tr>
{minor}
</table>
<h2>Anomalies ouvertes ({len(s.open)})</h2>
{_html_rows(s.open, resolved=False)}
<h2>Anomalies résolues depuis le 1er janvier {s.year} ({len(s.resolved)})</h2>
{_html_rows(s.resolved, resolved=True)}
</body></html>"""


def synthesis_pdf(synthesis: AnomalySynthesis) -> bytes:
    from weasyprint import HTML

    return HTML(string=synthesis_html(synthesis)).write_pdf()


def _local(value: dt.datetime | None):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def synthesis_xlsx(synthesis: AnomalySynthesis) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    s = synthesis
    workbook = Workbook()
    summary = workbook.active
    summary.title = "synthèse"
    summary.append([f"Synthèse mensuelle des anomalies — {s.month_label}"])
    summary.append(["Situation au", s.as_of_date])
    summary["B2"].number_format = "dd/mm/yyyy"
    summary.append([])
    summary.append(["Gravité", "Ouvertes", f"Résolues depuis le 1er janvier {s.year}", "Total"])
    header_row = summary.max_row
    for c in s.by_severity:
        summary.append([c.label, c.open, c.resolved, c.total])
    summary.append(["Total", len(s.open), len(s.resolved), s.total])
    summary.append([])
    minor = s.minor
    summary.append(["Anomalies ouvertes en retard", s.overdue_open])
    summary.append(["Anomalies résolues hors délai", s.late_resolved])
    summary.append(["Anomalies mineures mesurées (objectif de 7 jours)", minor.measured])
    summary.append(["dont corrigées en 7 jours au plus", minor.within_target])
    summary.append(
        [
            "Part corrigée en 7 jours au plus",
            "sans objet" if minor.share is None else minor.share / 100,
        ]
    )
    summary.cell(row=summary.max_row, column=2).number_format = "0.0 %"
    summary.append(["Objectif", MINOR_TARGET_SHARE])
    summary.cell(row=summary.max_row, column=2).number_format = "0 %"
    summary.append(
        ["Objectif atteint", "Sans objet" if minor.target_met is None else yes_no(minor.target_met)]
    )
    summary.append(["Anomalies mineures au-delà de 14 jours", minor.beyond_deadline])
    summary.append(["Toutes corrigées en 14 jours au plus", yes_no(minor.all_within_deadline)])
    summary.append([])
    summary.append([DEADLINES_TEXT])
    summary.column_dimensions["A"].width = 52
    summary.column_dimensions["C"].width = 34
    for cell in summary[1] + summary[header_row]:
        cell.font = Font(bold=True)

    def rows_sheet(title: str, rows: list[SynthesisRow], *, resolved: bool) -> None:
        sheet = workbook.create_sheet(title)
        header = [*COLUMNS] + (["Résolue le"] if resolved else [])
        header.append("Corrigée hors délai" if resolved else "En retard")
        sheet.append(header)
        for r in rows:
            values = [
                r.number, r.short_description, r.severity_label, r.status_label, r.found_on,
                r.fixed_test_on, r.fixed_prod_on, r.release_version, r.reporter,
                r.platforms_label, _local(r.deadline),
            ]  # fmt: skip
            if resolved:
                values.append(r.resolved_on)
            values.append(yes_no(r.overdue))
            sheet.append(values)
            line = sheet.max_row
            for column in (5, 6, 7, 12) if resolved else (5, 6, 7):
                sheet.cell(row=line, column=column).number_format = "dd/mm/yyyy"
            sheet.cell(row=line, column=11).number_format = "dd/mm/yyyy hh:mm"
            sheet.cell(row=line, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 14
        sheet.column_dimensions["B"].width = 60
        sheet.freeze_panes = "A2"

    rows_sheet("ouvertes", s.open, resolved=False)
    rows_sheet("résolues", s.resolved, resolved=True)
    return _workbook_bytes(workbook)
