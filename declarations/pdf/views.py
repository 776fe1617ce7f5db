"""PDF of a dossier: ask for it, follow its making, download it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.pdf.tasks import dossier_pdf_request
from workflow.models import DossierExport

MSG_NOT_YOURS = "Ce PDF a été demandé par une autre personne : demandez le vôtre."


def _export_for(dossier, policy, export_pk, *, with_content=False):
    exports = DossierExport.objects.filter(
        dossier=dossier, kind=DossierExport.Kind.PDF, pk=export_pk
    )
    if not with_content:
        exports = exports.defer("content")
    export = exports.first()
    if export is None:
        raise Http404("Document introuvable.")
    if not policy.can_read_export(export):
        raise PermissionDenied(MSG_NOT_YOURS)
    export.dossier = dossier
    return export


def _state(export: DossierExport) -> dict:
    done = export.status == DossierExport.Status.DONE
    return {
        "status": export.status,
        "label": export.get_status_display(),
        "progress": export.progress,
        "finished": export.finished,
        # a failure's reason; on an export still under way, the note that its worker died
        # and another took it up (declarations.pdf.receivers)
        "error": export.error if export.status == DossierExport.Status.FAILED else "",
        "notice": export.error if export.status != DossierExport.Status.FAILED else "",
        "download_url": (
            reverse("declarations:pdf_download", args=[export.dossier_id, export.pk])
            if done
            else None
        ),
    }


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def pdf_request(request, dossier, policy):
    export = dossier_pdf_request(
        dossier=policy.readable(), acting_user=request.user, frozen=policy.reads_snapshot
    )
    return redirect("declarations:pdf_status", pk=dossier.pk, export_pk=export.pk)


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def pdf_status(request, dossier, policy, export_pk):
    export = _export_for(dossier, policy, export_pk)
    return render(
        request,
        "declarations/pdf/status.html",
        {"dossier": export.dossier, "export": export, "state": _state(export)},
    )


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def pdf_state(request, dossier, policy, export_pk):
    """The export's progress as JSON, polled by the status page."""
    response = JsonResponse(_state(_export_for(dossier, policy, export_pk)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def pdf_download(request, dossier, policy, export_pk):
    export = _export_for(dossier, policy, export_pk, with_content=True)
    if export.status != DossierExport.Status.DONE or export.content is None:
        raise Http404("Ce PDF n'est pas encore prêt.")
    response = HttpResponse(bytes(export.content), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response
