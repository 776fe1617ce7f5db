from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.receipts.views import confirmation_page
from workflow.actions import dossier_transition
from workflow.models import DossierExport, FiabilisationStep
from workflow.services.lifecycle import ACTIONS, LifecycleRefused


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=False)
def dossier_step(request, dossier, policy):
    """Fire one lifecycle action from the dossier page. An action its user cannot undo is
    fired only once confirmed (« confirmation »: the dialog of the page, or the confirmation
    page this answers with when it is missing, as without JavaScript)."""
    action = request.POST.get("action", "")
    spec = ACTIONS.get(action)
    if spec is not None and spec.confirm and request.POST.get("confirmation") != "1":
        if (refusal := policy.transition_refusal(action)) is not None:
            messages.error(request, refusal)
            return redirect("declarations:dossier", pk=dossier.pk)
        return confirmation_page(request, dossier, action, comment=request.POST.get("comment", ""))
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
        if exc.checklist is not None:
            messages.error(request, _refusal(dossier, ACTIONS[action], exc.checklist))
        else:
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


def _refusal(dossier, action, checklist):
    """One alert for a validation or transmission refused by its checks: how many fields and
    controls, on which sheets, and the link to the verification page that lists them all."""
    parts = []
    if missing := checklist.missing:
        parts.append(counted(len(missing), "champ obligatoire vide", "champs obligatoires vides"))
    if checklist.blocking:
        parts.append(
            counted(
                len(checklist.blocking),
                "contrôle bloquant en échec",
                "contrôles bloquants en échec",
            )
        )
    sheets = [g.sheet for g in checklist.to_fix]
    where = ", ".join(f"« {name} »" for name in sheets)
    return format_html(
        "« {} » refusé : {} ({} : {}). "
        '<a href="{}" class="fr-link" data-testid="refusal-link">Voir la liste et y accéder</a>',
        action.label,
        " et ".join(parts),
        "feuille" if len(sheets) == 1 else "feuilles",
        where,
        reverse("declarations:verification", args=[dossier.pk]) + "#a-completer",
    )
