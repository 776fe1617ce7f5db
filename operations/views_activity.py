"""Monthly activity report (public host only): produced on demand for one platform and
exercise by the operator's staff and CGLLS, or automatically on the 1st of each month
(``operations.tasks``), stored (PDF and XLSX) and listed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.models import PUBLIC_ROLES
from accounts.permissions import role_required
from operations.models import PLATFORM_CHOICES, ActivityReport
from operations.services_activity import (
    activity_report_produce,
    current_exercise,
    default_exercise,
)
from operations.views import XLSX


class ActivityRequestForm(forms.Form):
    platform = forms.ChoiceField(label="Plateforme", choices=PLATFORM_CHOICES)
    exercise = forms.IntegerField(
        label="Exercice",
        min_value=2000,
        max_value=2100,
        required=False,
        help_text="Laissé vide : l'exercice de la campagne en cours de la plateforme.",
        # a year is written without a thousands separator ("2024", not "2 024")
        widget=forms.NumberInput(attrs={"step": 1}),
        localize=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("platform") and data.get("exercise") is None and not self.errors:
            data["exercise"] = current_exercise(data["platform"])
            if data["exercise"] is None:
                self.add_error(
                    "exercise", "Cette plateforme n'a aucune campagne : indiquez l'exercice."
                )
        return data


@role_required(*PUBLIC_ROLES)
def activity_list(request):
    form = ActivityRequestForm(request.POST or None, initial={"exercise": default_exercise()})
    if request.method == "POST" and form.is_valid():
        activity_report_produce(
            platform=form.cleaned_data["platform"],
            exercise=form.cleaned_data["exercise"],
            by=request.user,
        )
        messages.success(request, "Rapport d'activité produit.")
        return redirect("operations:activity_list")
    reports = ActivityReport.objects.defer("pdf", "xlsx").select_related("produced_by")
    return render(request, "operations/activity/list.html", {"form": form, "reports": reports})


@role_required(*PUBLIC_ROLES)
def activity_download(request, pk: int, fmt: str):
    report = get_object_or_404(ActivityReport, pk=pk)
    if fmt == "pdf":
        response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    else:
        response = HttpResponse(bytes(report.xlsx), content_type=XLSX)
    name = f"activite-{report.platform}-{report.exercise}-{report.produced_at:%Y%m%d-%H%M}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
