"""The tronc-commun pairs screen (gestionnaires): which ministry document shares its common
fields with which federation document. Edited on the ministry platform; a federation's
gestionnaires read the pairs naming their platform (declarations.services.tc_pairs)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.models import TroncCommunPair
from declarations.services.tc_pairs import (
    MINISTRY,
    PairRefused,
    federation_documents,
    may_edit_pairs,
    tc_pair_create,
    tc_pair_delete,
    tc_pairs_list,
)
from forms_cms.models import DocumentType


class PairForm(forms.Form):
    # plain text behind the lists: every check is the service's, which says why in French
    ministry_document = forms.CharField(
        label="Document du ministère", required=False, widget=forms.Select
    )
    counterpart = forms.CharField(
        label="Document de la fédération",
        required=False,
        widget=forms.Select,
        help_text="Chaque document n'a qu'un pendant par plateforme.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ministry_document"].widget.choices = [("", "—")] + [
            (d.code, f"{d.label} ({d.code})") for d in DocumentType.objects.all()
        ]
        self.fields["counterpart"].widget.choices = [("", "—")] + [
            (name, [(f"{code}:{doc}", f"{label} ({doc})") for doc, label in documents])
            for code, name, documents in federation_documents()
        ]


@role_required(Role.GESTIONNAIRE)
def tc_pairs_page(request):
    editable = may_edit_pairs(request.user)
    if request.method == "POST" and not editable:
        raise PermissionDenied(
            "Les paires du tronc commun se règlent sur la plateforme du ministère."
        )
    form = PairForm(request.POST or None) if editable else None
    if form is not None and request.method == "POST" and form.is_valid():
        platform, _, document = form.cleaned_data["counterpart"].partition(":")
        try:
            pair = tc_pair_create(
                ministry_document=form.cleaned_data["ministry_document"],
                platform=platform,
                document=document,
                acting_user=request.user,
            )
        except PairRefused as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, f"Paire ajoutée : {pair}.")
            return redirect("declarations:tc_pairs")
    here = connection.schema_name
    pairs = tc_pairs_list(platform=None if here == MINISTRY else here)
    return render(
        request,
        "declarations/tc_pairs.html",
        {"form": form, "pairs": pairs, "editable": editable},
    )


@require_POST
@role_required(Role.GESTIONNAIRE)
def tc_pair_delete_view(request, pk):
    if not may_edit_pairs(request.user):
        raise PermissionDenied(
            "Les paires du tronc commun se règlent sur la plateforme du ministère."
        )
    pair = TroncCommunPair.objects.select_related("ministry_document").filter(pk=pk).first()
    if pair is None:
        raise Http404("Paire introuvable.")
    label = str(pair)
    tc_pair_delete(pair=pair, acting_user=request.user)
    messages.success(request, f"Paire supprimée : {label}.")
    return redirect("declarations:tc_pairs")
