from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from forms_cms.verification import dossier_checklist, dossier_verify
from workflow.services.prefill import previous_transmission, transmitted_values


@require_http_methods(["GET", "POST"])
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_verification(request, dossier, policy):
    """ "Lancer la vérification": runs the controls (nothing is written, GET or POST) on the
    values the user may read (as last transmitted for a gestionnaire while handed back)."""
    shown = policy.readable()
    exercise = dossier.campaign.exercise - 1
    previous = previous_transmission(
        organism=dossier.organism, document_type=dossier.document_type, exercise=exercise
    )
    report = dossier_verify(
        shown, previous=transmitted_values(previous), previous_exercise=exercise
    )
    # the same checklist the refusal of « Valider » / « Transmettre » counts, listed in full
    checklist = dossier_checklist(shown, blocking=report.blocking_failures)
    tabs = report.tabs
    wanted = request.GET.get("onglet", "")
    current_tab = wanted if wanted in dict(tabs) else (tabs[0][0] if tabs else "")
    return render(
        request,
        "declarations/controls/verification.html",
        {
            "dossier": dossier,
            "report": report,
            "checklist": checklist,
            "tabs": tabs,
            "current_tab": current_tab,
            "previous": previous,
            "previous_exercise": exercise,
        },
    )
