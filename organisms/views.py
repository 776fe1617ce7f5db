from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from harmonia.forms import errors_apply
from harmonia.french import counted

from accounts.models import Role, User
from accounts.permissions import role_required
from organisms.forms import OrganismFilterForm, PlatformUserForm, RegistryUploadForm
from organisms.models import FEDERATION_CHOICES, Organism, RegistryImport
from organisms.selectors import organisms_visible_to
from organisms.services import RegistryFileError, TooManyOrganismUsers, organisms_import
from organisms.services.facts import EDITABLE, organism_facts_update
from organisms.services.memberships import platform_user_create, platform_user_set_active


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
                    f"Référentiel mis à jour : {counted(report.created, 'créé', 'créés')}, "
                    f"{counted(report.updated, 'modifié', 'modifiés')}, "
                    f"{counted(report.unchanged, 'inchangé', 'inchangés')}.",
                )
            else:
                messages.error(
                    request,
                    f"Le fichier contient {counted(len(report.errors), 'erreur', 'erreurs')} : "
                    "aucun organisme n'a "
                    "été modifié. Corrigez les lignes indiquées puis déposez-le à nouveau.",
                )
    return render(
        request,
        "organisms/registry_import.html",
        {"form": form, "report": report, "history": RegistryImport.objects.all()[:10]},
    )


@role_required(Role.GESTIONNAIRE)
def user_list(request):

    users = User.objects.select_related("membership__organism", "membership__partner").order_by(
        "role", "last_name", "username"
    )
    return render(request, "organisms/user_list.html", {"users": users})


@role_required(Role.GESTIONNAIRE)
def user_create(request):

    form = PlatformUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = platform_user_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                organism=data["organism_siren"],
                partner=data["partner"],
                acting_user=request.user,
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                field = "organism_siren" if field == "organism" else field
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request,
                f"Compte « {user.username} » créé : un lien pour choisir le mot de passe "
                f"a été envoyé à {user.email}.",
            )
            return redirect("organisms:users")
    return render(request, "organisms/user_form.html", {"form": form})


@role_required(Role.GESTIONNAIRE)
def user_set_active(request, pk: int):

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        platform_user_set_active(user=user, active=active, acting_user=request.user)
    except TooManyOrganismUsers as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Compte « {user.username} » {'réactivé' if active else 'désactivé'}."
        )
    return redirect("organisms:users")


class OrganismFactsForm(forms.ModelForm):
    class Meta:
        model = Organism
        fields = EDITABLE

    def __init__(self, *args, ministry: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not ministry:
            del self.fields["federation"]  # the ministry platform's alone
        else:
            self.fields["federation"].choices = [("", "—"), *FEDERATION_CHOICES]


@role_required(Role.GESTIONNAIRE)
def organism_detail(request, pk: int):
    """An organism's registry facts; the gestionnaire corrects what its deadlines depend on."""
    organism = get_object_or_404(organisms_visible_to(request.user), pk=pk)
    ministry = getattr(getattr(request, "tenant", None), "kind", "") == "ministry"
    form = OrganismFactsForm(request.POST or None, instance=organism, ministry=ministry)
    if request.method == "POST" and form.is_valid():
        try:
            organism_facts_update(
                organism=organism, values=form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, "Données de l'organisme enregistrées.")
            return redirect("organisms:detail", pk=pk)
    return render(request, "organisms/organism_detail.html", {"organism": organism, "form": form})
