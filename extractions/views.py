"""Extraction pages: the gestionnaire asks from the workspace (its filters and ticked dossiers),
a partner from its documents list; both follow their extractions on one page and download the
file when it is ready. Each request and download is journalled."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from extractions.forms import ExtractionForm, PartnerExtractionForm
from extractions.models import Extraction
from extractions.scope import gestionnaire_scope, partner_documents, partner_transmissions
from extractions.services import (
    extraction_download_record,
    extraction_request,
    retention,
    storage,
)
from forms_cms.models import DocumentType
from organisms.selectors import user_partner
from partners.models import AccessLog
from partners.services import access_log_record
from workflow.models import Campaign

MSG_NOT_FOUND = "Extraction introuvable."
MSG_NOT_READY = "Ce fichier n'est pas (ou plus) disponible : consultez l'état de l'extraction."
MSG_NOTHING = (
    "Aucun dossier de cette sélection ne peut être extrait : les dossiers aux étapes 1 à 3 "
    "appartiennent encore à l'organisme (ses valeurs vous seront accessibles après sa "
    "transmission). Modifiez les filtres ou la sélection."
)
MSG_NOTHING_SENT = "Rien ne vous a été transmis pour ce document et cet exercice."
MSG_QUEUED = (
    "Extraction demandée ({count}). Elle est préparée en arrière-plan ; "
    "le fichier apparaîtra ci-dessous quand il sera prêt."
)


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _dossiers_text(n: int) -> str:
    return counted(n, "dossier", "dossiers")


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def gestionnaire_request(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    selected = _ids(request.POST.getlist("dossier"))
    if request.method == "GET":
        filters = request.GET
    elif "filters" in request.POST:
        filters = QueryDict(request.POST["filters"])
    else:  # the workspace's ticked dossiers, with its filters in « next »
        filters = QueryDict(urlsplit(request.POST.get("next", "")).query)
    scope = gestionnaire_scope(
        user=request.user, campaign=campaign, filters=filters, selected=selected
    )
    submitted = request.method == "POST" and "format" in request.POST
    form = ExtractionForm(request.POST if submitted else None)
    if submitted and form.is_valid():
        if not scope.dossier_ids:
            form.add_error(None, MSG_NOTHING)
        else:
            extraction_request(
                user=request.user,
                campaign=campaign,
                document_type=scope.document_type,
                format=form.cleaned_data["format"],
                values=form.cleaned_data["values"],
                scope=scope.dossier_ids,
                scope_label=scope.label,
            )
            text = _dossiers_text(len(scope.dossier_ids))
            messages.success(request, MSG_QUEUED.format(count=text))
            return redirect("extractions:list")
    return render(
        request,
        "extractions/request.html",
        {
            "campaign": campaign,
            "scope": scope,
            "form": form,
            "filters": filters.urlencode(),
            "days": retention().days,
            "nothing": MSG_NOTHING,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.PARTENAIRE)
def partner_request(request):
    partner = user_partner(request.user)
    documents = partner_documents(request.user)
    form = PartnerExtractionForm(
        request.POST or None, documents=documents, initial={"document": request.GET.get("d")}
    )
    if request.method == "POST" and form.is_valid():
        campaign_id, document_type_id = (int(x) for x in form.cleaned_data["document"].split("-"))
        transmissions = list(
            partner_transmissions(request.user, campaign_id, document_type_id).values_list(
                "pk", "dossier__campaign", "dossier__document_type"
            )
        )
        if not transmissions:
            form.add_error("document", MSG_NOTHING_SENT)
        else:
            first = transmissions[0]
            extraction_request(
                user=request.user,
                campaign=Campaign.objects.get(pk=first[1]),
                document_type=DocumentType.objects.get(pk=first[2]),
                format=form.cleaned_data["format"],
                scope=[t[0] for t in transmissions],
                scope_label="documents transmis",
                partner=partner,
            )
            text = _dossiers_text(len(transmissions))
            messages.success(request, MSG_QUEUED.format(count=text))
            return redirect("extractions:list")
    return render(
        request,
        "extractions/partner_request.html",
        {"form": form, "partner": partner, "documents": documents, "days": retention().days},
    )


@role_required(Role.GESTIONNAIRE, Role.PARTENAIRE)
def extraction_list(request):
    extractions = Extraction.objects.filter(requested_by=request.user).select_related(
        "campaign", "document_type"
    )[:100]
    return render(
        request,
        "extractions/list.html",
        {
            "extractions": extractions,
            "waiting": any(not e.finished for e in extractions),
            "days": retention().days,
        },
    )


@role_required(Role.GESTIONNAIRE, Role.PARTENAIRE)
def extraction_download(request, pk):
    extraction = (
        Extraction.objects.filter(pk=pk, requested_by=request.user)
        .select_related("campaign", "document_type", "partner")
        .first()
    )
    partner = user_partner(request.user) if request.user.role == Role.PARTENAIRE else None
    allowed = extraction is not None and (
        extraction.partner_id is None
        if request.user.role == Role.GESTIONNAIRE
        else partner is not None and partner.is_active and extraction.partner_id == partner.pk
    )
    if not allowed:
        if request.user.role == Role.PARTENAIRE:
            access_log_record(
                user=request.user,
                what=AccessLog.What.EXTRACTION,
                granted=False,
                path=request.get_full_path(),
                ip=request.META.get("REMOTE_ADDR"),
            )
        raise Http404(MSG_NOT_FOUND)
    if not extraction.downloadable:
        raise Http404(MSG_NOT_READY)
    try:
        content = storage().open(extraction.file, "rb")
    except FileNotFoundError as exc:
        raise Http404(MSG_NOT_READY) from exc
    extraction_download_record(
        extraction=extraction,
        user=request.user,
        path=request.get_full_path(),
        ip=request.META.get("REMOTE_ADDR"),
    )
    return FileResponse(content, as_attachment=True, filename=extraction.filename)
