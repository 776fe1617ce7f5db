"""The exit drills' reports in the operator's space (public host, /operateur/reversibilite/):
operator staff only (hotline, maintenance), who hand the report to CGLLS."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import Role
from accounts.permissions import role_required
from reversibility.models import DrillReport

STAFF_ROLES = (Role.HOTLINE, Role.MAINTENANCE)


@role_required(*STAFF_ROLES)
def drill_list(request):
    reports = DrillReport.objects.defer("pdf", "markdown", "summary")
    return render(request, "reversibility/drill_list.html", {"reports": reports})


@role_required(*STAFF_ROLES)
def drill_detail(request, pk: int):
    report = get_object_or_404(DrillReport.objects.defer("pdf"), pk=pk)
    return render(
        request, "reversibility/drill_detail.html", {"report": report, "summary": report.summary}
    )


@role_required(*STAFF_ROLES)
def drill_download(request, pk: int, fmt: str):
    report = get_object_or_404(DrillReport, pk=pk)
    if fmt == "pdf":
        response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    else:
        response = HttpResponse(report.markdown, content_type="text/markdown; charset=utf-8")
    name = f"exercice-reversibilite-{report.started_at:%Y%m%d-%H%M}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
