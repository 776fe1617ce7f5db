"""The version tracking document ("document de suivi des versions", CCTP 3.2.2 b): every release
with its changes, the anomalies it fixes and the evolution requests it delivers, its delivery on
the test platform and in production. Given to each project committee and to CGLLS on request:
a page, a PDF and a spreadsheet. Also the writes of a release (recorded, then corrected until
its delivery dates are known)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from operations.hotline import _workbook_bytes
from operations.models import Anomaly, EvolutionRequest, Release

MSG_TEST_AFTER_PROD = (
    "« Livrée sur la plateforme de tests le » ne peut pas suivre la mise en production "
    "({prod:%d/%m/%Y}) : chaque version passe d'abord par la plateforme de tests."
)
RELEASE_FIELDS = ("number", "test_on", "date", "corrections", "evolutions")


@transaction.atomic
def release_save(release: Release | None = None, **fields) -> Release:
    """Record a release or correct it; ValidationError (French, by field), nothing stored."""
    unknown = set(fields) - set(RELEASE_FIELDS)
    if unknown:
        raise TypeError(f"release_save: unexpected fields {sorted(unknown)}")
    release = Release.objects.select_for_update().get(pk=release.pk) if release else Release()
    for name, value in fields.items():
        setattr(release, name, value)
    errors: dict[str, list[str]] = {}
    try:
        release.full_clean(exclude=["published_at"])
    except ValidationError as error:
        errors = error.message_dict
    if release.test_on and release.date and release.test_on > release.date:
        errors.setdefault("test_on", [MSG_TEST_AFTER_PROD.format(prod=release.date)])
    if errors:
        raise ValidationError(errors)
    release.save()
    return release


def releases_with_content():
    """Every release, newest first, with its anomalies and evolution requests (3 queries)."""
    return Release.objects.prefetch_related(
        Prefetch("anomalies", queryset=Anomaly.objects.order_by("number")),
        Prefetch("evolution_requests", queryset=EvolutionRequest.objects.order_by("number")),
    )


@dataclass
class VersionDocument:
    releases: list[Release]
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def current(self) -> Release | None:
        """The version in production: the latest published one."""
        return next((r for r in self.releases if r.published), None)


def version_document() -> VersionDocument:
    return VersionDocument(list(releases_with_content()))


def document_pdf(document: VersionDocument) -> bytes:
    from weasyprint import HTML

    html = render_to_string("operations/reports/versions.html", {"document": document})
    return HTML(string=html).write_pdf()


def document_xlsx(document: VersionDocument) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "versions"
    sheet.append(
        [
            "Version", "Livrée sur la plateforme de tests le", "Mise en production le",
            "Publiée", "Corrections", "Évolutions", "Anomalies corrigées", "Évolutions livrées",
        ]
    )  # fmt: skip
    for r in document.releases:
        sheet.append(
            [
                r.number,
                r.test_on,
                r.date,
                "Oui" if r.published else "Non",
                r.corrections,
                r.evolutions,
                "\n".join(f"{a.number} — {a.short_description}" for a in r.anomalies.all()),
                "\n".join(f"{e.number} — {e.description}" for e in r.evolution_requests.all()),
            ]
        )
        line = sheet.max_row
        for column in (2, 3):
            sheet.cell(row=line, column=column).number_format = "dd/mm/yyyy"
        for column in (5, 6, 7, 8):
            sheet.cell(row=line, column=column).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGH", (12, 16, 16, 9, 40, 40, 50, 50), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    return _workbook_bytes(workbook)
