import csv
import datetime as dt
import io

import openpyxl
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from harmonia.forms import errors_apply
from harmonia.french import counted

from accounts.models import Role
from accounts.permissions import role_required
from forms_cms.models import DocumentType
from organisms.models import DEPARTEMENT_CHOICES, Family
from workflow.actions import dossier_transition
from workflow.models import Campaign, Dossier, FiabilisationStep
from workflow.services.lifecycle import LifecycleRefused
from workflow.services.substeps import (
    SubstepInUse,
    substep_create,
    substep_delete,
    substep_update,
)
from workflow.workspace import (
    DEADLINE_FILTER_CHOICES,
    EXPORT_HEADERS,
    NOT_STARTED,
    SORT_CHOICES,
    STEP_FILTER_CHOICES,
    XLSX_DATE_FORMAT,
    XLSX_DATETIME_FORMAT,
    csv_cell,
    export_rows,
    workspace_rows,
)


class WorkspaceFilterForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Document", queryset=DocumentType.objects.none(), empty_label=None
    )
    q = forms.CharField(label="SIREN, nom ou texte des annotations", required=False)
    steps = forms.MultipleChoiceField(
        label="Étapes", required=False, choices=STEP_FILTER_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    substep = forms.ChoiceField(label="Sous-étape", required=False)
    family = forms.ChoiceField(label="Famille", required=False)
    departement = forms.ChoiceField(label="Département", required=False)
    failing = forms.BooleanField(label="Contrôles bloquants en échec", required=False)
    due = forms.ChoiceField(label="Date limite", required=False, choices=DEADLINE_FILTER_CHOICES)
    follow_up = forms.BooleanField(label="À suivre", required=False)
    sort = forms.ChoiceField(label="Trier par", required=False, choices=SORT_CHOICES)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = campaign.document_types.all()
        self.fields["substep"].choices = [("", "Toutes")] + [
            (s.code, str(s)) for s in FiabilisationStep.objects.all()
        ]
        self.fields["family"].choices = [("", "Toutes"), *Family.choices]
        self.fields["departement"].choices = [("", "Tous"), *DEPARTEMENT_CHOICES]


def _filtered(request, campaign):
    form = WorkspaceFilterForm(request.GET or None, campaign=campaign)
    if form.is_bound and form.is_valid():
        document_type, filters = form.cleaned_data["document_type"], form.cleaned_data
    else:
        document_type, filters = campaign.document_types.order_by("position").first(), {}
        form = WorkspaceFilterForm(initial={"document_type": document_type}, campaign=campaign)
    rows, counts = workspace_rows(campaign=campaign, document_type=document_type, filters=filters)
    return form, document_type, rows, counts


def _percent(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}".replace(".", ",") if total else "0"


@role_required(Role.GESTIONNAIRE)
def workspace(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    form, document_type, rows, counts = _filtered(request, campaign)
    total = sum(counts.values())
    steps = [
        (code, label, counts.get(code, 0), _percent(counts.get(code, 0), total))
        for code, label in STEP_FILTER_CHOICES
    ]
    # organisms without a dossier are a count and a link, unless asked for by the step filter
    hidden = 0
    # a deadline filter asks for the organisms concerned, begun or not; « à suivre » too
    asked = request.GET.get("due") or request.GET.get("follow_up")
    if NOT_STARTED not in request.GET.getlist("steps") and not asked:
        hidden = sum(1 for r in rows if r.dossier is None)
        rows = [r for r in rows if r.dossier is not None]
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "workflow/workspace.html",
        {
            "campaign": campaign,
            "document_type": document_type,
            "form": form,
            "page": page,
            "total": len(rows),
            "steps": steps,
            "top": max((count for _, _, count, _ in steps), default=0) or 1,
            "not_started": hidden,
            "chart_base": f"?document_type={document_type.pk}",
            "query": query.urlencode(),
            "substeps": FiabilisationStep.objects.all(),
        },
    )


@role_required(Role.GESTIONNAIRE)
def workspace_export(request, pk, fmt):
    campaign = get_object_or_404(Campaign, pk=pk)
    _, document_type, rows, _ = _filtered(request, campaign)
    data = export_rows(rows)
    stem = f"dossiers-{document_type.code}-{campaign.exercise}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(EXPORT_HEADERS)
        writer.writerows([csv_cell(value) for value in row] for row in data)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dossiers"
    ws.append(EXPORT_HEADERS)
    for row in data:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = XLSX_DATETIME_FORMAT
            elif isinstance(cell.value, dt.date):
                cell.number_format = XLSX_DATE_FORMAT
    for cell in ws[1]:
        cell.font = openpyxl.styles.Font(bold=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
    return response


@role_required(Role.GESTIONNAIRE)
def workspace_move(request, pk):
    """Move the selected dossiers (in step 4) to one sub-step."""
    if request.method != "POST":
        return redirect("workflow:workspace", pk=pk)
    campaign = get_object_or_404(Campaign, pk=pk)
    substep = FiabilisationStep.objects.filter(pk=request.POST.get("substep") or 0).first()
    ids = [int(i) for i in request.POST.getlist("dossier") if i.isdigit()]
    moved, refused = 0, []
    for dossier in Dossier.objects.filter(campaign=campaign, pk__in=ids).select_related("organism"):
        try:
            dossier_transition(
                dossier=dossier, action="move", acting_user=request.user, substep=substep
            )
            moved += 1
        except (LifecycleRefused, PermissionDenied) as exc:
            refused.append(f"{dossier.organism.name} : {exc}")
    if moved:
        moved_text = counted(moved, "dossier déplacé", "dossiers déplacés")
        messages.success(request, f"{moved_text} en sous-étape {substep}.")
    for problem in refused[:20]:
        messages.error(request, problem)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/campagnes/") else f"/campagnes/{pk}/dossiers/")


class SubstepForm(forms.ModelForm):
    class Meta:
        model = FiabilisationStep
        fields = ["code", "label", "position"]


@role_required(Role.GESTIONNAIRE)
def substeps(request, pk=None):
    """The platform's fiabilisation sub-steps: list, add, edit, delete when unused.

    The only screen that writes them (the Wagtail admin lists them and links here)."""
    instance = get_object_or_404(FiabilisationStep, pk=pk) if pk else None
    if request.method == "POST" and request.POST.get("delete") and instance:
        try:
            substep_delete(substep=instance, acting_user=request.user)
        except SubstepInUse as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Sous-étape supprimée.")
        return redirect("workflow:substeps")
    form = SubstepForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            if instance:
                substep_update(substep=instance, values=form.cleaned_data, acting_user=request.user)
            else:
                substep_create(values=form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, "Sous-étape enregistrée.")
            return redirect("workflow:substeps")
    return render(
        request,
        "workflow/substeps.html",
        {"form": form, "instance": instance, "substeps": FiabilisationStep.objects.all()},
    )
