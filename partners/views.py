"""Partners' pages: the gestionnaires' rules and access log, the organism's choices, and the
partner users' documents (every page a partner user opens is logged)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST
from harmonia.forms import errors_apply

from accounts.models import Role, User
from accounts.permissions import role_required
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import format_value
from forms_cms.models import DocumentType
from organisms.models import Partner
from organisms.selectors import user_organism, user_partner
from organisms.services.memberships import platform_user_create, platform_user_set_active
from partners.forms import AccessLogFilterForm, PartnerForm, PartnerRuleForm, PartnerUserForm
from partners.models import AccessLog, PartnerRule
from partners.selectors import partner_rules, partners_concerned, transmissions_visible_to
from partners.services import (
    access_log_record,
    partner_choices_save,
    partner_create,
    partner_rule_create,
    partner_rule_delete,
    partner_rule_update,
    partner_set_active,
    partner_update,
)
from workflow.models import DossierExport

MSG_NOT_FOUND = "Document introuvable."
MSG_PENDING = "Ce document est en cours de préparation : réessayez dans quelques instants."


def _log(request, what, transmission=None, granted=True):
    access_log_record(
        user=request.user,
        what=what,
        transmission=transmission,
        granted=granted,
        path=request.get_full_path(),
        ip=request.META.get("REMOTE_ADDR"),
    )


def _transmission_for(request, pk, what):
    """The transmission if it was sent to this partner user's partner; otherwise the refused
    read is logged and the answer is 404 (as if it did not exist)."""
    transmission = transmissions_visible_to(request.user).filter(pk=pk).first()
    if transmission is None:
        _log(request, what, granted=False)
        raise Http404(MSG_NOT_FOUND)
    return transmission


# --- partner users ---------------------------------------------------------------------------


@role_required(Role.PARTENAIRE)
def transmission_list(request):
    transmissions = transmissions_visible_to(request.user).prefetch_related("snapshots")
    page = Paginator(transmissions, 50).get_page(request.GET.get("page"))
    _log(request, AccessLog.What.LIST)
    return render(
        request,
        "partners/transmission_list.html",
        {"page": page, "partner": user_partner(request.user)},
    )


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    text: str
    computed: bool


def _value_rows(transmission) -> list[tuple[str, list[Row]]]:
    """The transmitted values grouped by sheet (in the form's order), labelled and formatted
    the French way; fields unknown to the version are listed last by name."""
    fields = version_fields(transmission.form_version)
    sheets = list(
        transmission.form_version.sheets.order_by("position").values_list("name", flat=True)
    )
    order = {name: i for i, name in enumerate(sheets)}
    tables = version_tables(transmission.form_version)
    values = {
        n: v for n, v in {**transmission.computed, **transmission.values}.items() if n not in tables
    }
    known = sorted(
        (fields[n] for n in values if n in fields),
        key=lambda f: (order.get(f.sheet, len(order)), f.sheet, f.row, f.column),
    )
    groups: dict[str, list[Row]] = {}
    for info in known:
        text = format_value(values[info.name], info.data_type, info.number_format)
        groups.setdefault(info.sheet, []).append(
            Row(info.name, info.label or info.name, text, info.computed)
        )
    other = sorted(n for n in values if n not in fields and not isinstance(values[n], list))
    if other:
        groups["Autres champs"] = [Row(n, n, format_value(values[n]), False) for n in other]
    return list(groups.items())


NUMERIC = {"amount", "integer", "percentage"}


@dataclass(frozen=True)
class TableShown:
    name: str
    sheet: str
    headers: list[tuple[str, bool, bool]]  # (label, calculated, numeric)
    rows: list[list[tuple[str, bool]]]  # (text, numeric)


def _table_rows(transmission) -> list[TableShown]:
    """The transmitted multivalued tables (« listes »), in the form's order: each row's input
    cells with its calculated columns beside them, formatted the French way."""
    shown = []
    for meta in version_tables(transmission.form_version).values():
        stored = transmission.values.get(meta.name) or []
        calculated = transmission.computed.get(meta.name) or []
        if not isinstance(stored, list):
            continue
        numeric = {c.name for c in meta.columns if c.data_type in NUMERIC}
        rows = []
        for i, row in enumerate(stored):
            cells = {**row, **(calculated[i] if i < len(calculated) else {})}
            rows.append(
                [
                    (
                        format_value(cells.get(c.name), c.data_type, c.number_format),
                        c.name in numeric,
                    )
                    for c in meta.columns
                ]
            )
        headers = [(c.label or c.name, c.computed, c.name in numeric) for c in meta.columns]
        shown.append(TableShown(meta.name, meta.sheet, headers, rows))
    return shown


def _sections(transmission) -> list[tuple[str, list[Row], list[TableShown]]]:
    """(sheet, its single-cell values, its lists) in the form's order; « Autres champs »
    (fields the version no longer has) last."""
    groups = dict(_value_rows(transmission))
    tables = _table_rows(transmission)
    sheets = list(groups)
    for table in tables:
        if table.sheet not in groups:
            sheets.append(table.sheet)
    order = {
        name: i
        for i, name in enumerate(
            transmission.form_version.sheets.order_by("position").values_list("name", flat=True)
        )
    }
    sheets.sort(key=lambda name: order.get(name, len(order)))
    return [
        (sheet, groups.get(sheet, []), [t for t in tables if t.sheet == sheet]) for sheet in sheets
    ]


@role_required(Role.PARTENAIRE)
def transmission_detail(request, pk):
    transmission = _transmission_for(request, pk, AccessLog.What.VALUES)
    _log(request, AccessLog.What.VALUES, transmission)
    return render(
        request,
        "partners/transmission_detail.html",
        {
            "transmission": transmission,
            "dossier": transmission.dossier,
            "snapshots": transmission.snapshots.order_by("kind"),
            "sections": _sections(transmission),
        },
    )


@role_required(Role.PARTENAIRE)
def transmission_document(request, pk, export_pk):
    """A PDF or XML as transmitted to this partner, nothing else."""
    export = DossierExport.objects.filter(pk=export_pk).only("kind").first()
    what = AccessLog.What.PDF if export and export.kind == "pdf" else AccessLog.What.XML
    transmission = _transmission_for(request, pk, what)
    snapshot = transmission.snapshots.filter(pk=export_pk).first()
    if snapshot is None:
        _log(request, what, transmission, granted=False)
        raise Http404(MSG_NOT_FOUND)
    _log(request, what, transmission)
    if snapshot.status != DossierExport.Status.DONE or snapshot.content is None:
        raise Http404(MSG_PENDING)
    content_type = "application/pdf" if snapshot.kind == "pdf" else "application/xml"
    response = HttpResponse(bytes(snapshot.content), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, snapshot.filename)
    return response


# --- organisme users: their choices ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ORGANISME)
def choices(request):
    organism = user_organism(request.user)
    if organism is None:
        raise PermissionDenied("Votre compte n'est rattaché à aucun organisme.")
    if request.method == "POST":
        document_type = get_object_or_404(DocumentType, pk=request.POST.get("document_type"))
        try:
            chosen = partner_choices_save(
                organism=organism,
                document_type=document_type,
                chosen_ids=[v for v in request.POST.getlist("partner") if v.isdigit()],
                acting_user=request.user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            names = ", ".join(p.name for p in chosen) or "aucun partenaire au choix"
            messages.success(
                request, f"Choix enregistrés pour « {document_type.label} » : {names}."
            )
        return redirect("partners:choices")
    sections = []
    for document_type in DocumentType.objects.filter(partner_rules__isnull=False).distinct():
        concerned = [
            c
            for c in partners_concerned(organism=organism, document_type=document_type)
            if c.rule.mode != PartnerRule.Mode.FORBIDDEN
        ]
        if concerned:
            sections.append((document_type, concerned))
    return render(request, "partners/choices.html", {"organism": organism, "sections": sections})


# --- gestionnaires: rules and the access log ---------------------------------------------------


@role_required(Role.GESTIONNAIRE)
def rule_list(request):
    rules = PartnerRule.objects.select_related("document_type", "partner", "updated_by")
    return render(request, "partners/rule_list.html", {"rules": rules})


def _rule_initial(request) -> dict:
    """A new rule prefilled from a partner's page: ?partner=…&document_type=…"""
    initial = {}
    partner = Partner.objects.filter(pk=_int(request.GET.get("partner"))).first()
    if partner is not None:
        initial.update(partner=partner, partner_kind=partner.kind)
    document_type = DocumentType.objects.filter(pk=_int(request.GET.get("document_type"))).first()
    if document_type is not None:
        initial["document_type"] = document_type
    return initial


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def rule_create(request):
    form = PartnerRuleForm(request.POST or None, initial=_rule_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            rule = partner_rule_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, f"Règle créée : {rule}.")
            return redirect("partners:rules")
    return render(request, "partners/rule_form.html", {"form": form, "rule": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def rule_edit(request, pk):
    rule = get_object_or_404(PartnerRule, pk=pk)
    form = PartnerRuleForm.for_rule(rule, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = partner_rule_update(rule=rule, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, f"Règle modifiée : {rule}.")
            return redirect("partners:rules")
    return render(request, "partners/rule_form.html", {"form": form, "rule": rule})


@require_POST
@role_required(Role.GESTIONNAIRE)
def rule_delete(request, pk):
    rule = get_object_or_404(PartnerRule, pk=pk)
    label = str(rule)
    partner_rule_delete(rule=rule, acting_user=request.user)
    messages.success(request, f"Règle supprimée : {label}.")
    return redirect("partners:rules")


@role_required(Role.GESTIONNAIRE)
def access_log(request):
    logs = AccessLog.objects.select_related(
        "partner", "dossier__organism", "dossier__document_type", "dossier__campaign"
    )
    form = AccessLogFilterForm(request.GET or None)
    if form.is_valid() and form.cleaned_data["partner"]:
        logs = logs.filter(partner=form.cleaned_data["partner"])
    page = Paginator(logs, 100).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "partners/access_log.html",
        {"page": page, "form": form, "filters": filters.urlencode()},
    )


# --- gestionnaires: the partners and their accounts ---------------------------------------------


@role_required(Role.GESTIONNAIRE)
def partner_list(request):
    partners = Partner.objects.annotate(
        users=Count("memberships", filter=Q(memberships__user__is_active=True))
    ).order_by("kind", "name")
    kind = request.GET.get("kind", "")
    if kind in Partner.Kind.values:
        partners = partners.filter(kind=kind)
    if q := request.GET.get("q", "").strip():
        partners = partners.filter(name__icontains=q)
    page = Paginator(partners, 50).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "partners/partner_list.html",
        {
            "page": page,
            "kinds": Partner.Kind.choices,
            "kind": kind,
            "q": q,
            "filters": filters.urlencode(),
        },
    )


@role_required(Role.GESTIONNAIRE)
def partner_detail(request, pk):
    partner = get_object_or_404(Partner, pk=pk)
    users = User.objects.filter(membership__partner=partner).order_by("last_name", "username")
    return render(
        request,
        "partners/partner_detail.html",
        {"partner": partner, "users": users, "rules": partner_rules(partner)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def partner_create_view(request):
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = partner_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(
                request,
                f"Partenaire « {partner.name} » créé. Créez ses comptes ci-dessous ; il reçoit "
                "les documents que les règles de transmission lui destinent.",
            )
            return redirect("partners:partner_detail", partner.pk)
    return render(request, "partners/partner_form.html", {"form": form, "partner": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def partner_edit(request, pk):
    partner = get_object_or_404(Partner, pk=pk)
    form = PartnerForm.for_partner(partner, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = partner_update(partner=partner, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, f"Partenaire « {partner.name} » modifié.")
            return redirect("partners:partner_detail", partner.pk)
    return render(request, "partners/partner_form.html", {"form": form, "partner": partner})


@require_POST
@role_required(Role.GESTIONNAIRE)
def partner_activation(request, pk):
    partner = get_object_or_404(Partner, pk=pk)
    active = request.POST.get("active") == "1"
    partner = partner_set_active(partner=partner, active=active, acting_user=request.user)
    if active:
        messages.success(request, f"Partenaire « {partner.name} » réactivé.")
    else:
        messages.success(
            request,
            f"Partenaire « {partner.name} » désactivé : il ne reçoit plus rien et ses comptes "
            "ne peuvent plus se connecter.",
        )
    return redirect("partners:partner_detail", partner.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.GESTIONNAIRE)
def partner_user_create(request, pk):
    """An account of this partner: no password, a single-use link to choose one (the same
    service as every other account of the platform)."""
    partner = get_object_or_404(Partner, pk=pk)
    form = PartnerUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = platform_user_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=Role.PARTENAIRE,
                partner=partner,
                acting_user=request.user,
                request=request,
            )
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(
                request,
                f"Compte « {user.username} » créé pour {partner.name} : un lien pour choisir "
                f"le mot de passe a été envoyé à {user.email}.",
            )
            return redirect("partners:partner_detail", partner.pk)
    return render(request, "partners/partner_user_form.html", {"form": form, "partner": partner})


@require_POST
@role_required(Role.GESTIONNAIRE)
def partner_user_activation(request, pk, user_pk):
    partner = get_object_or_404(Partner, pk=pk)
    account = get_object_or_404(User, pk=user_pk, membership__partner=partner)
    active = request.POST.get("active") == "1"
    try:
        platform_user_set_active(user=account, active=active, acting_user=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        state = "réactivé" if active else "désactivé"
        messages.success(request, f"Compte « {account.username} » {state}.")
    return redirect("partners:partner_detail", partner.pk)
