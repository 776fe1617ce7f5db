from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_and_policy
from declarations.services import DossierClosed
from declarations.services.pairing import (
    PairingRefused,
    grant_label,
    tc_events_of,
    tc_pairing_grant,
    tc_pairing_revoke,
    tc_pairing_target,
    tc_pairings_of,
)
from declarations.services.sync import NothingToSync, dossier_sync, sync_preview
from declarations.services.tronc_commun import platform_short_name, require_tc_owner


@role_required(Role.ORGANISME)
def dossier_sync_page(request, pk):
    """« Rapatrier » : preview the tronc commun values of the other platform, then confirm."""
    dossier, _ = dossier_and_policy(request.user, pk)
    try:
        if request.method == "POST":
            result = dossier_sync(
                dossier=dossier,
                acting_user=request.user,
                names=request.POST.getlist("champ"),
                erase=request.POST.getlist("effacer"),
            )
            messages.success(request, _applied_message(result))
            return redirect("declarations:dossier", pk=dossier.pk)
        preview = sync_preview(dossier=dossier, acting_user=request.user)
    except (NothingToSync, DossierClosed) as exc:
        return render(
            request,
            "declarations/dossier_sync.html",
            {"dossier": dossier, "nothing": str(exc)},
        )
    return render(
        request, "declarations/dossier_sync.html", {"dossier": dossier, "preview": preview}
    )


def _applied_message(result) -> str:
    if not result.saved:
        return "Aucune valeur rapatriée : aucun champ coché ne différait de votre saisie."
    erased = sum(1 for value in result.saved.values() if value in (None, ""))
    text = counted(
        len(result.saved),
        "valeur du tronc commun rapatriée",
        "valeurs du tronc commun rapatriées",
    )
    if erased:
        text += f", dont {counted(erased, 'effacée', 'effacées')} à votre demande"
    computed = counted(
        len(result.computed), "valeur calculée mise à jour", "valeurs calculées mises à jour"
    )
    return f"{text} ; {computed}."


class GrantForm(forms.Form):
    # checked by the service (tc_pairing_grant), which says what to type in French
    account_email = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off", "size": 40}),
    )


@role_required(Role.ORGANISME)
def tc_pairing_page(request, pk):
    """The organism's consents to « Rapatrier » this dossier from the other platform, and the
    bridge's journal for this dossier."""
    dossier, _ = dossier_and_policy(request.user, pk)
    require_tc_owner(dossier, request.user)
    form = GrantForm(request.POST or None)
    context = {"dossier": dossier, "form": form}
    try:
        platform = tc_pairing_target(dossier)
    except NothingToSync as exc:
        platform = None
        context["nothing"] = str(exc)
    else:
        context["platform_name"] = platform_short_name(platform)
        context["grant_label"] = grant_label(platform)
        field = form.fields["account_email"]
        field.label = f"Adresse e-mail du compte sur la plateforme « {context['platform_name']} »"
        field.help_text = (
            "Le compte de votre organisme sur cette plateforme qui rapatriera ce tronc commun "
            "(une seule autorisation active à la fois)."
        )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                pairing = _pairing_of(dossier, request.POST.get("pairing"))
                tc_pairing_revoke(pairing=pairing, acting_user=request.user)
                messages.success(
                    request,
                    f"Autorisation retirée : le compte {pairing.account_email} ne peut plus "
                    "rapatrier le tronc commun de ce dossier.",
                )
                return redirect("declarations:tc_pairing", pk=dossier.pk)
            if platform is not None and form.is_valid():
                pairing = tc_pairing_grant(
                    dossier=dossier,
                    account_email=form.cleaned_data["account_email"],
                    acting_user=request.user,
                )
                messages.success(
                    request,
                    f"Autorisation donnée : le compte {pairing.account_email} de la plateforme "
                    f"« {context['platform_name']} » peut rapatrier le tronc commun de ce "
                    "dossier, jusqu'à ce que vous la retiriez.",
                )
                return redirect("declarations:tc_pairing", pk=dossier.pk)
        except PairingRefused as exc:
            if exc.field:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
    context["pairings"] = pairings = list(tc_pairings_of(dossier))
    context["active"] = next((p for p in pairings if p.active and p.platform == platform), None)
    context["events"] = tc_events_of(dossier)
    return render(request, "declarations/tc_pairing.html", context)


def _pairing_of(dossier, raw_pk):
    try:
        return tc_pairings_of(dossier).get(pk=int(raw_pk))
    except (TypeError, ValueError, dossier.tc_pairings.model.DoesNotExist):
        raise Http404("Autorisation introuvable.") from None
