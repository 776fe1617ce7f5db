from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from declarations.controls.services import dossier_verify
from declarations.selectors import dossiers_visible_to


@require_http_methods(["GET", "POST"])
@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def dossier_verification(request, pk):
    """ "Lancer la vérification": runs the controls (nothing is written, GET or POST)."""
    dossier = dossiers_visible_to(request.user).filter(pk=pk).first()
    if dossier is None:
        raise Http404("Dossier introuvable.")
    report = dossier_verify(dossier)
    tabs = report.tabs
    wanted = request.GET.get("onglet", "")
    current_tab = wanted if wanted in dict(tabs) else (tabs[0][0] if tabs else "")
    return render(
        request,
        "declarations/controls/verification.html",
        {"dossier": dossier, "report": report, "tabs": tabs, "current_tab": current_tab},
    )
