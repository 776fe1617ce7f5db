from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.models import Role
from accounts.permissions import role_required
from declarations.services.sync import NothingToSync, dossier_sync, sync_preview
from declarations.views import _dossier_for


@role_required(Role.ORGANISME)
def dossier_sync_page(request, pk):
    """« Rapatrier » : preview the tronc commun values of the other platform, then confirm."""
    dossier = _dossier_for(request, pk)
    try:
        if request.method == "POST":
            names = request.POST.getlist("champ")
            result = dossier_sync(dossier=dossier, acting_user=request.user, names=names)
            messages.success(
                request,
                f"{len(result.saved)} valeur(s) du tronc commun rapatriée(s) ; "
                f"{len(result.computed)} valeur(s) calculée(s) mise(s) à jour.",
            )
            return redirect("declarations:dossier", pk=dossier.pk)
        preview = sync_preview(dossier=dossier, acting_user=request.user)
    except NothingToSync as exc:
        return render(
            request,
            "declarations/dossier_sync.html",
            {"dossier": dossier, "nothing": str(exc)},
        )
    return render(
        request, "declarations/dossier_sync.html", {"dossier": dossier, "preview": preview}
    )
