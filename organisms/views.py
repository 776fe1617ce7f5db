from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required
from organisms.forms import OrganismFilterForm, RegistryUploadForm
from organisms.models import RegistryImport
from organisms.selectors import organisms_visible_to
from organisms.services import RegistryFileError, organisms_import


@role_required(Role.GESTIONNAIRE, Role.ORGANISME, Role.PARTENAIRE)
def organism_list(request):
    organisms = organisms_visible_to(request.user)
    form = OrganismFilterForm(request.GET or None)
    if form.is_valid():
        if q := form.cleaned_data["q"].strip():
            organisms = organisms.filter(Q(name__icontains=q) | Q(siren__startswith=q))
        if family := form.cleaned_data["family"]:
            organisms = organisms.filter(family=family)
        if departement := form.cleaned_data["departement"]:
            organisms = organisms.filter(departement=departement)
    page = Paginator(organisms.order_by("name"), 50).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "organisms/organism_list.html",
        {"page": page, "form": form, "total": page.paginator.count, "filters": filters.urlencode()},
    )


@role_required(Role.GESTIONNAIRE)
def registry_import(request):
    report = None
    form = RegistryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = organisms_import(
                content=upload.read(), file_name=upload.name, acting_user=request.user
            )
        except RegistryFileError as exc:
            form.add_error("file", str(exc))
        else:
            if report.applied:
                messages.success(
                    request,
                    f"Référentiel mis à jour : {report.created} créé(s), {report.updated} "
                    f"modifié(s), {report.unchanged} inchangé(s).",
                )
            else:
                messages.error(
                    request,
                    f"Le fichier contient {len(report.errors)} erreur(s) : aucun organisme n'a "
                    "été modifié. Corrigez les lignes indiquées puis déposez-le à nouveau.",
                )
    return render(
        request,
        "organisms/registry_import.html",
        {"form": form, "report": report, "history": RegistryImport.objects.all()[:10]},
    )
