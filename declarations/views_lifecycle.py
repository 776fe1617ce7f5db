from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from workflow.actions import dossier_transition
from workflow.models import DossierExport, FiabilisationStep
from workflow.services.lifecycle import ACTIONS, LifecycleRefused


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=False)
def dossier_step(request, dossier, policy):
    """Fire one lifecycle action from the dossier page."""
    action = request.POST.get("action", "")
    substep = None
    if request.POST.get("substep"):
        substep = FiabilisationStep.objects.filter(pk=request.POST["substep"]).first()
    try:
        change = dossier_transition(
            dossier=dossier,
            action=action,
            acting_user=request.user,
            comment=request.POST.get("comment", ""),
            substep=substep,
        )
    except LifecycleRefused as exc:
        for problem in exc.problems:
            messages.error(request, problem)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        label = ACTIONS[action].label
        messages.success(
            request, f"{label} : le dossier est à l'étape « {change.dossier.step_label} »."
        )
    return redirect("declarations:dossier", pk=dossier.pk)


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=False)
def snapshot_download(request, dossier, policy, export_pk):
    """A document frozen at a transmission (PDF or XML), as transmitted."""
    snapshot = get_object_or_404(
        DossierExport, pk=export_pk, dossier=dossier, step_change__isnull=False
    )
    if not policy.can_read_export(snapshot):
        raise PermissionDenied("Ce document n'est pas accessible.")
    if snapshot.status != DossierExport.Status.DONE or snapshot.content is None:
        raise Http404("Ce document est en cours de préparation.")
    content_type = "application/pdf" if snapshot.kind == "pdf" else "application/xml"
    response = HttpResponse(bytes(snapshot.content), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, snapshot.filename)
    return response
