"""PDF of a dossier: ask for it, follow its making, download it."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.pdf.tasks import dossier_pdf_request
from declarations.selectors import dossiers_visible_to
from workflow.models import DossierExport


def _dossier_for(request, pk):
    dossier = dossiers_visible_to(request.user).filter(pk=pk).first()
    if dossier is None:
        raise Http404("Dossier introuvable.")
    return dossier


def _export_for(request, pk, export_pk, *, with_content=False):
    dossier = _dossier_for(request, pk)
    exports = DossierExport.objects.filter(
        dossier=dossier, kind=DossierExport.Kind.PDF, pk=export_pk
    )
    if not with_content:
        exports = exports.defer("content")
    export = exports.first()
    if export is None:
        raise Http404("Document introuvable.")
    export.dossier = dossier
    return export


def _state(export: DossierExport) -> dict:
    done = export.status == DossierExport.Status.DONE
    return {
        "status": export.status,
        "label": export.get_status_display(),
        "progress": export.progress,
        "finished": export.finished,
        "error": export.error,
        "download_url": (
            reverse("declarations:pdf_download", args=[export.dossier_id, export.pk])
            if done
            else None
        ),
    }


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def pdf_request(request, pk):
    dossier = _dossier_for(request, pk)
    export = dossier_pdf_request(dossier=dossier, acting_user=request.user)
    return redirect("declarations:pdf_status", pk=dossier.pk, export_pk=export.pk)


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def pdf_status(request, pk, export_pk):
    export = _export_for(request, pk, export_pk)
    return render(
        request,
        "declarations/pdf/status.html",
        {"dossier": export.dossier, "export": export, "state": _state(export)},
    )


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def pdf_state(request, pk, export_pk):
    """The export's progress as JSON, polled by the status page."""
    response = JsonResponse(_state(_export_for(request, pk, export_pk)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def pdf_download(request, pk, export_pk):
    export = _export_for(request, pk, export_pk, with_content=True)
    if export.status != DossierExport.Status.DONE or export.content is None:
        raise Http404("Ce PDF n'est pas encore prêt.")
    response = HttpResponse(bytes(export.content), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response
