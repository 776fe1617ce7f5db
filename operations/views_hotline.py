"""Hotline log (public host only): hotline and maintenance staff record and update contacts;
CGLLS reads the log, the monthly report and the exports."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import PUBLIC_ROLES
from accounts.permissions import role_required
from operations import hotline, services_hotline
from operations.models import (
    HOTLINE_PLATFORM_CHOICES,
    HotlineContact,
    HotlineStatus,
    HotlineSubject,
)
from operations.views import STAFF_ROLES, XLSX
from organisms.siren import normalize_siren

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class HotlineContactForm(forms.ModelForm):
    # Wider than the 9 digits: people type "552 100 554"; normalised in clean_siren.
    siren = forms.CharField(label="SIREN", max_length=20, required=False)

    class Meta:
        model = HotlineContact
        fields = [
            "received_at", "channel", "platform", "caller_name", "organism_name", "siren",
            "subject", "description",
        ]  # fmt: skip
        widgets = {"received_at": DATETIME_LOCAL, "description": forms.Textarea(attrs={"rows": 4})}

    def clean_siren(self):
        return normalize_siren(self.cleaned_data.get("siren"))


class HotlineChangeForm(forms.ModelForm):
    class Meta:
        model = HotlineContact
        fields = ["status", "resolution"]
        widgets = {"resolution": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if data.get("status") == HotlineStatus.RESOLVED and not data.get("resolution"):
            self.add_error("resolution", "Décrivez la résolution.")
        return data


class HotlineFilterForm(forms.Form):
    start = forms.DateField(label="Du", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="Au", required=False, widget=forms.DateInput({"type": "date"}))
    platform = forms.ChoiceField(
        label="Plateforme", required=False, choices=[("", "Toutes"), *HOTLINE_PLATFORM_CHOICES]
    )
    status = forms.ChoiceField(
        label="Statut", required=False, choices=[("", "Tous"), *HotlineStatus.choices]
    )
    subject = forms.ChoiceField(
        label="Sujet", required=False, choices=[("", "Tous"), *HotlineSubject.choices]
    )


def _filtered(request):
    filters = HotlineFilterForm(request.GET or None)
    contacts = HotlineContact.objects.all()
    if filters.is_valid():
        data = filters.cleaned_data
        tz = timezone.get_current_timezone()
        if data["start"]:
            contacts = contacts.filter(
                received_at__gte=dt.datetime.combine(data["start"], dt.time(), tzinfo=tz)
            )
        if data["end"]:
            end = data["end"] + dt.timedelta(days=1)
            contacts = contacts.filter(
                received_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=tz)
            )
        for name in ("platform", "status", "subject"):
            if data[name]:
                contacts = contacts.filter(**{name: data[name]})
    return filters, contacts


@role_required(*PUBLIC_ROLES)
def hotline_list(request):
    filters, contacts = _filtered(request)
    today = timezone.localdate()
    return render(
        request,
        "operations/hotline/list.html",
        {
            "contacts": contacts,
            "filters": filters,
            "can_edit": request.user.role in STAFF_ROLES,
            "query": request.GET.urlencode(),
            "this_month": f"{today:%Y-%m}",
        },
    )


@role_required(*STAFF_ROLES)
def hotline_create(request):
    initial = {"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    form = HotlineContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services_hotline.hotline_contact_create(by=request.user, **form.cleaned_data)
        messages.success(request, "Contact enregistré.")
        return redirect("operations:hotline_list")
    return render(request, "operations/hotline/form.html", {"form": form, "contact": None})


@role_required(*PUBLIC_ROLES)
def hotline_edit(request, pk: int):
    contact = get_object_or_404(HotlineContact, pk=pk)
    form = HotlineChangeForm(request.POST or None, instance=contact)
    if request.method == "POST":
        if request.user.role not in STAFF_ROLES:
            raise PermissionDenied("Seule l'équipe de l'opérateur traite les contacts.")
        if form.is_valid():
            services_hotline.hotline_contact_update(contact, **form.cleaned_data)
            messages.success(request, "Contact mis à jour.")
            return redirect("operations:hotline_list")
    return render(
        request,
        "operations/hotline/form.html",
        {"form": form, "contact": contact, "can_edit": request.user.role in STAFF_ROLES},
    )


def _month(request) -> tuple[int, int]:
    try:
        chosen = dt.datetime.strptime(request.GET.get("mois", ""), "%Y-%m")
        return chosen.year, chosen.month
    except ValueError:
        today = timezone.localdate()
        return today.year, today.month


@role_required(*PUBLIC_ROLES)
def hotline_report(request):
    year, month = _month(request)
    report = hotline.monthly_report(year, month)
    fmt = request.GET.get("format")
    name = f"hotline-{year}-{month:02d}"
    if fmt == "pdf":
        response = HttpResponse(hotline.report_pdf(report), content_type="application/pdf")
    elif fmt == "xlsx":
        response = HttpResponse(hotline.report_xlsx(report), content_type=XLSX)
    else:
        return render(
            request,
            "operations/hotline/report.html",
            {
                "report": report,
                "chart": hotline.bar_chart_svg(report.per_month),
                "mois": f"{year}-{month:02d}",
            },
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@role_required(*PUBLIC_ROLES)
def hotline_export(request):
    """The per-call detail of the filtered contacts (a platform chosen in the filters)."""
    _, contacts = _filtered(request)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    platform = request.GET.get("platform") or "toutes"
    response = HttpResponse(
        hotline.detail_export(contacts.order_by("received_at", "id"), fmt),
        content_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX,
    )
    response["Content-Disposition"] = f'attachment; filename="hotline-{platform}.{fmt}"'
    return response
