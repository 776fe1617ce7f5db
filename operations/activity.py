"""Monthly activity report of one platform and one exercise (read-only aggregates).

:func:`activity_figures` counts, inside the platform's schema, the active organisms, and for
each document type of the exercise's campaign the dossiers at each step and fiabilisation
sub-step, those not yet initialised; the anomalies affecting the platform since 1 January come
from the public schema. On the ministry platform the counts are broken down by organism family;
on a federation platform, each step and sub-step of a document paired with a ministry document
(the tronc-commun pairs the ministry's gestionnaires configure, declarations.services.tc_pairs:
QDIS OPH ↔ ER sociaux, QDIS SEM ↔ ER SEM…) also counts how many of those organisms (same SIREN)
have transmitted that ministry document on the ministry platform — one aggregate query across
the two schemas, never a value. :func:`report_pdf` and :func:`report_xlsx` lay the figures out.

Reports are produced and stored by ``operations.services_activity`` (on demand, and on the 1st
of each month by the periodic job in ``operations.tasks``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape

from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_tenants.utils import schema_context

from declarations.services.tc_pairs import ministry_counterpart
from operations.hotline import _workbook_bytes, percent_fr
from operations.models import Anomaly
from operations.selectors import SecurityMonths, security_months
from organisms.models import Family, Organism
from tenants.platforms import PLATFORMS
from workflow.models import Campaign, Dossier, FiabilisationStep, Step
from workflow.services.deadlines import deadlines_for, is_late

MINISTRY = "dhup"
# steps reached only once the organism has transmitted its dossier
TRANSMITTED_STEPS = ("4", "4R", "5", "6")
ER_HEADER = "dont ER transmis (DHUP)"


@dataclass
class Line:
    """One row of a table: a step, a sub-step or "not initialised"."""

    code: str
    label: str
    count: int
    share: float  # percent of the active organisms
    by_family: dict[str, int] = field(default_factory=dict)
    er_transmitted: int | None = None  # federation platforms, paired documents only

    @property
    def share_fr(self) -> str:
        return percent_fr(self.share)


@dataclass
class LateDossier:
    """An organism bound to file a document, past its deadline and never transmitted."""

    organism: str
    siren: str
    family: str
    deadline: dt.date | None
    step: str  # the dossier's step, or « non initialisé »


@dataclass
class AnomalyLine:
    number: str
    description: str
    severity: str
    status: str
    found_on: dt.date
    fixed_prod_on: dt.date | None
    release: str


@dataclass
class DocumentFigures:
    code: str
    label: str
    steps: list[Line]
    substeps: list[Line]
    not_initialised: Line
    er_document: str = ""  # federation platforms: the paired ministry document's code
    # of the organisms bound to file it: past their own deadline and never transmitted, and
    # those whose deadline a prorogation moved
    late: Line | None = None
    prorogated: Line | None = None
    late_dossiers: list[LateDossier] = field(default_factory=list)

    @property
    def deadline_lines(self) -> list[Line]:
        return [line for line in (self.late, self.prorogated) if line is not None]


@dataclass
class ActivityFigures:
    platform: str
    platform_label: str
    exercise: int
    organisms: int
    organisms_by_family: dict[str, int]
    families: list[tuple[str, str]]  # (code, label), ministry only
    documents: list[DocumentFigures]
    anomalies_since_january: int
    anomalies_open: int
    is_federation: bool
    anomalies: list[AnomalyLine] = field(default_factory=list)  # found since 1 January
    counted_at: dt.datetime = field(default_factory=timezone.now)
    # the platform's security events, last month and this month (security supervision)
    security: SecurityMonths | None = None

    @property
    def counted_at_fr(self) -> str:
        return timezone.localtime(self.counted_at).strftime("%d/%m/%Y %H:%M")


def _share(count: int, total: int) -> float:
    return 100 * count / total if total else 0.0


@dataclass
class ErTransmitted:
    """Per step and per sub-step (its id) of a federation's document: how many of its
    organisms have the paired ministry document transmitted on the ministry platform."""

    document: str  # the ministry document's code
    steps: dict[str, int]
    substeps: dict[int, int]


def _er_transmitted_by_step(platform: str, campaign_id: int, document) -> ErTransmitted | None:
    """For a federation's dossiers of one document, per step and sub-step: how many of those
    organisms have the ministry document paired with it (None: none is), of the same
    exercise, at a transmitted step on the ministry platform."""
    # schema names are the platforms' codes, fixed in tenants.platforms (never user input)
    if platform not in {p.code for p in PLATFORMS}:
        raise ValueError(f"unknown platform {platform!r}")
    ministry_document = ministry_counterpart(platform, document.code)
    if ministry_document is None:
        return None
    sql = f"""
        SELECT d.step, d.substep_id, COUNT(DISTINCT o.id)
        FROM "{platform}".workflow_dossier d
        JOIN "{platform}".organisms_organism o ON o.id = d.organism_id
        JOIN "{platform}".workflow_campaign c ON c.id = d.campaign_id
        WHERE d.campaign_id = %s AND d.document_type_id = %s AND o.is_active
          AND EXISTS (
            SELECT 1
            FROM "{MINISTRY}".workflow_dossier md
            JOIN "{MINISTRY}".organisms_organism mo ON mo.id = md.organism_id
            JOIN "{MINISTRY}".workflow_campaign mc ON mc.id = md.campaign_id
            JOIN "{MINISTRY}".forms_cms_documenttype mt ON mt.id = md.document_type_id
            WHERE mo.siren = o.siren AND mc.exercise = c.exercise AND mt.code = %s
              AND md.step = ANY(%s)
          )
        GROUP BY d.step, d.substep_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id, document.pk, ministry_document, list(TRANSMITTED_STEPS)])
        rows = cursor.fetchall()
    er = ErTransmitted(ministry_document, {}, {})
    for step, substep_id, n in rows:
        er.steps[step] = er.steps.get(step, 0) + n
        # sub-steps as the report counts them: those of dossiers at step 4 or handed back
        if substep_id is not None and step in ("4", "4R"):
            er.substeps[substep_id] = er.substeps.get(substep_id, 0) + n
    return er


def activity_figures(platform_code: str, exercise: int) -> ActivityFigures:

    spec = next(p for p in PLATFORMS if p.code == platform_code)
    is_ministry = platform_code == MINISTRY
    is_federation = spec.kind == "federation"
    year_start = dt.date(timezone.localdate().year, 1, 1)
    anomalies = Anomaly.objects.filter(platforms__contains=[platform_code])
    anomaly_lines = [
        AnomalyLine(
            a.number,
            a.short_description,
            a.get_severity_display(),
            a.get_status_display(),
            a.found_on,
            a.fixed_prod_on,
            a.release.number if a.release else "",
        )
        for a in anomalies.filter(found_on__gte=year_start)
        .select_related("release")
        .order_by("found_on", "number")
    ]
    anomalies_since = len(anomaly_lines)
    anomalies_open = anomalies.exclude(status__in=["fixed_prod", "closed"]).count()

    with schema_context(platform_code):
        active = Organism.objects.filter(is_active=True)
        total = active.count()
        by_family = dict(active.values_list("family").annotate(n=Count("id")).order_by())
        families = [(c, lbl) for c, lbl in Family.choices if c in by_family] if is_ministry else []
        substeps = list(FiabilisationStep.objects.all())
        documents = []
        campaign = Campaign.objects.filter(exercise=exercise).order_by("-opening_date").first()
        for document in campaign.document_types.order_by("code") if campaign else []:
            # shares and « non initialisés » are of the organisms bound to file the document
            # (its families), not of every organism of the platform
            bound = set(document.families) or set(by_family)
            expected = sum(n for family, n in by_family.items() if family in bound)
            dossiers = Dossier.objects.filter(
                campaign=campaign, document_type=document, organism__is_active=True
            )
            rows = dossiers.values_list("step", "substep_id", "organism__family").annotate(
                n=Count("id")
            )
            step_n: dict[str, int] = {}
            step_fam: dict[str, dict[str, int]] = {}
            sub_n: dict[int, int] = {}
            sub_fam: dict[int, dict[str, int]] = {}
            for step, substep_id, family, n in rows.order_by():
                step_n[step] = step_n.get(step, 0) + n
                step_fam.setdefault(step, {})[family] = step_fam.get(step, {}).get(family, 0) + n
                if substep_id is not None and step in ("4", "4R"):
                    sub_n[substep_id] = sub_n.get(substep_id, 0) + n
                    fam = sub_fam.setdefault(substep_id, {})
                    fam[family] = fam.get(family, 0) + n
            er = (
                _er_transmitted_by_step(platform_code, campaign.pk, document)
                if is_federation
                else None
            )
            steps = [
                Line(
                    code,
                    label,
                    step_n.get(code, 0),
                    _share(step_n.get(code, 0), expected),
                    step_fam.get(code, {}) if is_ministry else {},
                    None if er is None else er.steps.get(code, 0),
                )
                for code, label in Step.choices
            ]
            subs = [
                Line(
                    s.code,
                    f"{s.code} — {s.label}",
                    sub_n.get(s.pk, 0),
                    _share(sub_n.get(s.pk, 0), expected),
                    sub_fam.get(s.pk, {}) if is_ministry else {},
                    None if er is None else er.substeps.get(s.pk, 0),
                )
                for s in substeps
            ]
            # organisms with a dossier, per family: one query (not one per family)
            with_dossier_fam = dict(
                dossiers.values_list("organism__family")
                .annotate(n=Count("organism", distinct=True))
                .order_by()
            )
            missing = expected - sum(n for f, n in with_dossier_fam.items() if f in bound)
            missing_fam = (
                {
                    f: by_family.get(f, 0) - with_dossier_fam.get(f, 0) if f in bound else 0
                    for f, _ in families
                }
                if is_ministry
                else {}
            )
            late, prorogated, late_dossiers = _deadline_lines(
                campaign, document, active, expected, families if is_ministry else []
            )
            documents.append(
                DocumentFigures(
                    document.code,
                    document.label,
                    steps,
                    subs,
                    Line("0", "Non initialisés", missing, _share(missing, expected), missing_fam),
                    er_document=er.document if er is not None else "",
                    late=late,
                    prorogated=prorogated,
                    late_dossiers=late_dossiers,
                )
            )
    return ActivityFigures(
        platform=platform_code,
        platform_label=spec.short_name,
        exercise=exercise,
        organisms=total,
        organisms_by_family=by_family if is_ministry else {},
        families=families,
        documents=documents,
        anomalies_since_january=anomalies_since,
        anomalies_open=anomalies_open,
        is_federation=is_federation,
        anomalies=anomaly_lines,
        security=security_months(platform_code, timezone.now()),
    )


def _deadline_lines(
    campaign, document, active, expected, families
) -> tuple[Line, Line, list[LateDossier]]:
    """« En retard » and « Prorogés » of the organisms bound to file ``document``: each
    organism's own deadline (its family's rule, its approval date, its prorogation); and the
    late ones, by deadline then name."""
    bound = list(
        document.filers(active).only("pk", "name", "siren", "family", "accounting", "closing")
    )
    schedules = deadlines_for(campaign, document, bound)
    dossier_steps = dict(
        Dossier.objects.filter(campaign=campaign, document_type=document).values_list(
            "organism_id", "step"
        )
    )
    transmitted = set(
        Dossier.objects.filter(
            campaign=campaign, document_type=document, transmitted_at__isnull=False
        ).values_list("organism_id", flat=True)
    )
    step_labels = dict(Step.choices)
    late_fam: dict[str, int] = {}
    prorogated_fam: dict[str, int] = {}
    late_dossiers: list[LateDossier] = []
    for organism in bound:
        deadline = schedules[organism.pk]
        if deadline.prorogated:
            prorogated_fam[organism.family] = prorogated_fam.get(organism.family, 0) + 1
        if organism.pk not in transmitted and is_late(deadline, None, True):
            late_fam[organism.family] = late_fam.get(organism.family, 0) + 1
            step = dossier_steps.get(organism.pk)
            late_dossiers.append(
                LateDossier(
                    organism.name,
                    organism.siren,
                    organism.family,
                    deadline.effective,
                    step_labels.get(step, step) if step else "Non initialisé",
                )
            )
    late_dossiers.sort(key=lambda d: (d.deadline or dt.date.max, d.organism))
    late, prorogated = sum(late_fam.values()), sum(prorogated_fam.values())
    codes = {code for code, _ in families}
    return (
        Line(
            "R",
            "En retard (date limite dépassée, non transmis)",
            late,
            _share(late, expected),
            {f: n for f, n in late_fam.items() if f in codes},
        ),
        Line(
            "P",
            "Date limite prorogée",
            prorogated,
            _share(prorogated, expected),
            {f: n for f, n in prorogated_fam.items() if f in codes},
        ),
        late_dossiers,
    )


def _headers(figures: ActivityFigures) -> list[str]:
    headers = ["", "Dossiers", "Part des organismes"]
    headers += [code for code, _ in figures.families]
    if figures.is_federation:
        headers.append(ER_HEADER)
    return headers


def _cells(figures: ActivityFigures, line: Line, *, text: bool) -> list:
    cells = [line.label, line.count, line.share_fr if text else line.share / 100]
    cells += [line.by_family.get(code, 0) for code, _ in figures.families]
    if figures.is_federation:
        cells.append("" if line.er_transmitted is None else line.er_transmitted)
    return cells


def title(figures: ActivityFigures) -> str:
    return f"Rapport d'activité — {figures.platform_label} — exercice {figures.exercise}"


def _er_note(figures: ActivityFigures, document: DocumentFigures, *, html: bool) -> str:
    """Federation platforms: which ministry document « dont ER transmis » counts."""
    if not figures.is_federation:
        return ""
    if document.er_document:
        text = (
            f"{ER_HEADER} : organismes ayant transmis leur {document.er_document} sur la "
            "plateforme du ministère"
        )
    else:
        text = f"{ER_HEADER} : aucun document du ministère n'est apparié avec ce document"
    return f"<p>{escape(text)}.</p>" if html else text


def _date_fr(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _late_html(document: DocumentFigures) -> str:
    rows = "".join(
        f"<tr><td>{escape(d.organism)}</td><td>{escape(d.siren)}</td><td>{escape(d.family)}</td>"
        f"<td>{_date_fr(d.deadline)}</td><td>{escape(d.step)}</td></tr>"
        for d in document.late_dossiers
    )
    if not rows:
        return "<p>Aucun dossier en retard.</p>"
    return (
        "<table><tr><th>Organisme</th><th>SIREN</th><th>Famille</th><th>Date limite</th>"
        f"<th>Étape</th></tr>{rows}</table>"
    )


def _anomalies_html(figures: ActivityFigures) -> str:
    rows = "".join(
        f"<tr><td>{escape(a.number)}</td><td>{escape(a.description)}</td>"
        f"<td>{escape(a.severity)}</td><td>{escape(a.status)}</td><td>{_date_fr(a.found_on)}</td>"
        f"<td>{_date_fr(a.fixed_prod_on)}</td><td>{escape(a.release or '—')}</td></tr>"
        for a in figures.anomalies
    )
    if not rows:
        return "<p>Aucune anomalie depuis le 1er janvier.</p>"
    return (
        "<table><tr><th>N°</th><th>Description</th><th>Gravité</th><th>Statut</th>"
        "<th>Constatée le</th><th>Corrigée en production le</th><th>Version</th></tr>"
        f"{rows}</table>"
    )


SECURITY_TITLE = "Événements de sécurité"


def _security_html(figures: ActivityFigures) -> str:
    security = figures.security
    if security is None:
        return ""
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class=n>{previous}</td><td class=n>{current}</td></tr>"
        for label, previous, current in security.lines
    )
    return (
        f"<h2>{SECURITY_TITLE}</h2><table><tr><th></th><th>{escape(security.previous_label)}</th>"
        f"<th>{escape(security.current_label)}</th></tr>{rows}<tr><th>Total</th>"
        f"<td class=n>{security.total_previous}</td><td class=n>{security.total_current}</td>"
        "</tr></table>"
    )


def report_html(figures: ActivityFigures) -> str:
    def table(lines: list[Line]) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in _headers(figures))
        body = "".join(
            "<tr>"
            + "".join(
                f"<td{' class=n' if i else ''}>{escape(str(c))}</td>"
                for i, c in enumerate(_cells(figures, line, text=True))
            )
            + "</tr>"
            for line in lines
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    families = "".join(
        f"<tr><th>{escape(label)}</th><td class=n>{figures.organisms_by_family.get(code, 0)}</td>"
        "</tr>"
        for code, label in figures.families
    )
    documents = (
        "".join(
            f"<h2>{escape(d.label)} ({escape(d.code)})</h2>{_er_note(figures, d, html=True)}"
            "<h3>Dossiers par étape</h3>"
            f"{table([*d.steps, d.not_initialised, *d.deadline_lines])}"
            f"<h3>Sous-étapes de fiabilisation</h3>{table(d.substeps)}"
            f"<h3>Dossiers en retard ({len(d.late_dossiers)})</h3>{_late_html(d)}"
            for d in figures.documents
        )
        or "<p>Aucune campagne pour cet exercice.</p>"
    )
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 9pt; }}
table {{ border-collapse: collapse; margin-bottom: 6mm; }}
td, th {{ border: 1px solid #999; padding: 2px 5px; text-align: left; }}
td.n {{ text-align: right; }}
</style></head><body>
<h1>{escape(title(figures))}</h1>
<p>Chiffres comptés le {figures.counted_at_fr}.</p>
<table>
<tr><th>Organismes inscrits (actifs)</th><td class=n>{figures.organisms}</td></tr>
{families}
<tr><th>Anomalies depuis le 1er janvier</th><td class=n>{figures.anomalies_since_january}</td></tr>
<tr><th>Anomalies non résolues</th><td class=n>{figures.anomalies_open}</td></tr>
</table>
<h2>Anomalies depuis le 1er janvier ({len(figures.anomalies)})</h2>
{_anomalies_html(figures)}
{documents}
{_security_html(figures)}
</body></html>"""


def report_pdf(figures: ActivityFigures) -> bytes:
    from weasyprint import HTML

    return HTML(string=report_html(figures)).write_pdf()


def report_xlsx(figures: ActivityFigures) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "synthèse"
    summary.append([title(figures)])
    summary.append(["Comptés le", timezone.localtime(figures.counted_at).replace(tzinfo=None)])
    summary["B2"].number_format = "dd/mm/yyyy hh:mm"
    summary.append(["Organismes inscrits (actifs)", figures.organisms])
    summary.append(["Anomalies depuis le 1er janvier", figures.anomalies_since_january])
    summary.append(["Anomalies non résolues", figures.anomalies_open])
    for code, label in figures.families:
        summary.append([label, figures.organisms_by_family.get(code, 0)])
    summary["A1"].font = Font(bold=True)
    summary.column_dimensions["A"].width = 40
    for d in figures.documents:
        sheet = workbook.create_sheet(d.code[:31])
        sheet.append(_headers(figures))
        for line in [*d.steps, d.not_initialised, *d.deadline_lines, *d.substeps]:
            sheet.append(_cells(figures, line, text=False))
            sheet.cell(row=sheet.max_row, column=3).number_format = "0.0 %"
        if note := _er_note(figures, d, html=False):
            sheet.append([note])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 40
        late = workbook.create_sheet(f"{d.code[:24]} retards")
        late.append(["Organisme", "SIREN", "Famille", "Date limite", "Étape"])
        for item in d.late_dossiers:
            late.append([item.organism, item.siren, item.family, item.deadline, item.step])
            late.cell(row=late.max_row, column=4).number_format = "dd/mm/yyyy"
        for cell in late[1]:
            cell.font = Font(bold=True)
        late.column_dimensions["A"].width = 40
    anomalies = workbook.create_sheet("anomalies")
    anomalies.append(
        [
            "N°", "Description", "Gravité", "Statut", "Constatée le",
            "Corrigée en production le", "Version",
        ]
    )  # fmt: skip
    for a in figures.anomalies:
        anomalies.append(
            [a.number, a.description, a.severity, a.status, a.found_on, a.fixed_prod_on, a.release]
        )
        for column in (5, 6):
            anomalies.cell(row=anomalies.max_row, column=column).number_format = "dd/mm/yyyy"
    for cell in anomalies[1]:
        cell.font = Font(bold=True)
    anomalies.column_dimensions["B"].width = 60
    if figures.security is not None:
        security = figures.security
        sheet = workbook.create_sheet("sécurité")
        sheet.append([SECURITY_TITLE, security.previous_label, security.current_label])
        for line in security.lines:
            sheet.append(list(line))
        sheet.append(["Total", security.total_previous, security.total_current])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 45
    return _workbook_bytes(workbook)
