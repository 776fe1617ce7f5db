"""Operator's space (public host only): the anomaly tracker and the correspondents.

Operator staff (hotline, maintenance) and CGLLS see and report anomalies and ask for a
reclassification; operator staff move the status; CGLLS sets the severity and decides
reclassification requests.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import PUBLIC_ROLES, TRACKER_ROLES, Role
from accounts.permissions import role_required
from operations import anomaly_report, selectors, services, versions
from operations.deadlines import anomaly_deadline, anomaly_target, is_overdue, is_past_target
from operations.forms import (
    AnomalyChangeForm,
    AnomalyDetailsForm,
    AnomalyForm,
    CorrespondentForm,
    FilterForm,
    MaintenanceDecisionForm,
    MaintenanceWindowForm,
    ReclassificationForm,
    ReleaseForm,
    SynthesisForm,
)
from operations.models import (
    RESOLVED_STATUSES,
    Anomaly,
    Correspondent,
    MaintenanceWindow,
    Reclassification,
    Release,
)
from tenants.models import Platform
from tenants.views import platform_url

STAFF_ROLES = (Role.HOTLINE, Role.MAINTENANCE)


def _annotate(anomaly: Anomaly, now) -> Anomaly:
    anomaly.deadline = anomaly_deadline(anomaly.severity, anomaly.acknowledged_at)
    anomaly.target = anomaly_target(anomaly.severity, anomaly.acknowledged_at)
    anomaly.overdue = is_overdue(anomaly, now)
    anomaly.past_target = is_past_target(anomaly, now)
    return anomaly


@role_required(*TRACKER_ROLES)
def anomaly_list(request):
    now = timezone.now()
    filters = FilterForm(request.GET or None)
    anomalies = selectors.anomalies_visible_to(request.user)
    only_overdue = False
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"] == "open":
            anomalies = anomalies.exclude(status__in=RESOLVED_STATUSES)
        elif data["status"]:
            anomalies = anomalies.filter(status=data["status"])
        if data["severity"]:
            anomalies = anomalies.filter(severity=data["severity"])
        if data["platform"]:
            anomalies = anomalies.filter(platforms__contains=[data["platform"]])
        only_overdue = data["overdue"]
    rows = [_annotate(a, now) for a in anomalies]
    if only_overdue:
        rows = [a for a in rows if a.overdue]
    return render(request, "operations/anomaly_list.html", {"anomalies": rows, "filters": filters})


@role_required(*TRACKER_ROLES)
def anomaly_create(request):
    form = AnomalyForm(request.POST or None, platforms=selectors.followed_platforms(request.user))
    if request.method == "POST" and form.is_valid():
        anomaly = services.anomaly_create(by=request.user, **form.cleaned_data)
        messages.success(request, f"Anomalie {anomaly.number} enregistrée.")
        return redirect("operations:anomaly_detail", number=anomaly.number)
    return render(request, "operations/anomaly_form.html", {"form": form})


@role_required(*TRACKER_ROLES)
def anomaly_detail(request, number: str):
    anomaly = get_object_or_404(selectors.anomalies_visible_to(request.user), number=number)
    anomaly = _annotate(anomaly, timezone.now())
    change_form = AnomalyChangeForm(
        initial={"status": anomaly.status, "severity": anomaly.severity}
    )
    return render(
        request,
        "operations/anomaly_detail.html",
        {
            "anomaly": anomaly,
            "events": anomaly.events.select_related("by"),
            "reclassifications": anomaly.reclassifications.select_related(
                "requested_by", "decided_by"
            ),
            "change_form": change_form,
            "reclassification_form": ReclassificationForm(),
            "can_change_status": request.user.role in STAFF_ROLES,
            "can_change_severity": request.user.role == Role.CGLLS,
            "can_edit_details": request.user.role in STAFF_ROLES,
            # correspondents read and report; reclassification is asked by CGLLS and staff
            "can_request_reclassification": request.user.role in PUBLIC_ROLES,
        },
    )


@role_required(*STAFF_ROLES)
def anomaly_details(request, number: str):
    """Correct an anomaly's details (dates, version, reporter, platforms, description)."""
    anomaly = get_object_or_404(Anomaly, number=number)
    # The form works on its own copy: the service compares against the stored values.
    form = AnomalyDetailsForm(request.POST or None, instance=Anomaly.objects.get(pk=anomaly.pk))
    if request.method == "POST" and form.is_valid():
        try:
            event = services.anomaly_update_details(anomaly, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, "Détails enregistrés." if event else "Aucune modification à enregistrer."
            )
            return redirect("operations:anomaly_detail", number=number)
    return render(
        request, "operations/anomaly_details_form.html", {"anomaly": anomaly, "form": form}
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@role_required(*TRACKER_ROLES)
def anomaly_synthesis(request):
    """The monthly synthesis: a page with the month's figures, or its PDF or XLSX."""
    today = timezone.localdate()
    form = SynthesisForm(request.GET or {"annee": today.year, "mois": today.month})
    if not form.is_valid():
        status = 400 if request.GET else 200
        return render(request, "operations/anomaly_synthesis.html", {"form": form}, status=status)
    year, month = form.cleaned_data["annee"], form.cleaned_data["mois"]
    synthesis = anomaly_report.monthly_synthesis(
        year, month, platforms=selectors.followed_platforms(request.user)
    )
    fmt = form.cleaned_data["format"]
    if not fmt:
        return render(
            request,
            "operations/anomaly_synthesis.html",
            {
                "form": form,
                "synthesis": synthesis,
                "minor_lines": anomaly_report.minor_rule_lines(synthesis),
                "deadlines_text": anomaly_report.DEADLINES_TEXT,
                "query": f"annee={year}&mois={month}",
            },
        )
    if fmt == "pdf":
        response = HttpResponse(
            anomaly_report.synthesis_pdf(synthesis), content_type="application/pdf"
        )
    else:
        response = HttpResponse(anomaly_report.synthesis_xlsx(synthesis), content_type=XLSX)
    name = f"synthese-anomalies-{year}-{month:02d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@role_required(*PUBLIC_ROLES)
def anomaly_change(request, number: str):
    anomaly = get_object_or_404(Anomaly, number=number)
    form = AnomalyChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Modification refusée : valeurs invalides.")
        return redirect("operations:anomaly_detail", number=number)
    status = form.cleaned_data["status"]
    severity = form.cleaned_data["severity"]
    if status != anomaly.status and request.user.role not in STAFF_ROLES:
        raise PermissionDenied("Seule l'équipe de l'opérateur change le statut.")
    if severity != anomaly.severity and request.user.role != Role.CGLLS:
        raise PermissionDenied("Demandez un reclassement pour changer la gravité.")
    event = services.anomaly_change(
        anomaly,
        by=request.user,
        status=status,
        severity=severity,
        comment=form.cleaned_data["comment"],
    )
    if event:
        messages.success(request, "Modification enregistrée ; les correspondants sont prévenus.")
    return redirect("operations:anomaly_detail", number=number)


@require_POST
@role_required(*PUBLIC_ROLES)
def reclassification_request(request, number: str):
    anomaly = get_object_or_404(Anomaly, number=number)
    form = ReclassificationForm(request.POST)
    if form.is_valid():
        services.reclassification_request(anomaly, by=request.user, **form.cleaned_data)
        messages.success(request, "Demande de reclassement enregistrée.")
    else:
        messages.error(request, "Une justification est obligatoire.")
    return redirect("operations:anomaly_detail", number=number)


@require_POST
@role_required(Role.CGLLS)
def reclassification_decide(request, pk: int):
    reclassification = get_object_or_404(Reclassification, pk=pk, accepted__isnull=True)
    accepted = request.POST.get("decision") == "accept"
    services.reclassification_decide(reclassification, by=request.user, accepted=accepted)
    messages.success(request, "Reclassement accepté." if accepted else "Reclassement refusé.")
    return redirect("operations:anomaly_detail", number=reclassification.anomaly.number)


@role_required(*PUBLIC_ROLES)
def correspondent_list(request):
    form = CorrespondentForm(request.POST or None)
    if request.method == "POST" and _correspondent_saved(request, form, None):
        messages.success(request, "Correspondant ajouté.")
        return redirect("operations:correspondent_list")
    return render(
        request,
        "operations/correspondent_list.html",
        {"correspondents": Correspondent.objects.select_related("user"), "form": form},
    )


def _correspondent_saved(request, form, correspondent) -> bool:
    if not form.is_valid():
        return False
    try:
        services.correspondent_save(
            correspondent, acting_user=request.user, request=request, **form.cleaned_data
        )
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@role_required(*PUBLIC_ROLES)
def correspondent_edit(request, pk: int):
    correspondent = get_object_or_404(Correspondent.objects.select_related("user"), pk=pk)
    form = CorrespondentForm.for_instance(correspondent, request.POST or None)
    if request.method == "POST" and _correspondent_saved(request, form, correspondent):
        messages.success(request, "Correspondant modifié.")
        return redirect("operations:correspondent_list")
    return render(request, "operations/correspondent_edit.html", {"form": form})


@role_required(*PUBLIC_ROLES)
def release_list(request):
    form = ReleaseForm(request.POST or None)
    if request.method == "POST":
        if request.user.role not in STAFF_ROLES:
            raise PermissionDenied("Seule l'équipe de l'opérateur enregistre les versions.")
        if form.is_valid():
            try:
                versions.release_save(**form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Version enregistrée (non publiée).")
                return redirect("operations:release_list")
    return render(
        request,
        "operations/release_list.html",
        {
            "releases": versions.releases_with_content(),
            "form": form,
            "can_edit": request.user.role in STAFF_ROLES,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(*STAFF_ROLES)
def release_publish(request, pk: int):
    release = get_object_or_404(Release, pk=pk)
    sent = services.release_publish(release)
    messages.success(request, f"Version {release.number} publiée ; {sent} destinataires prévenus.")
    return redirect("operations:release_list")


@role_required(*PUBLIC_ROLES)
def maintenance_list(request):
    """Maintenance windows: the staff ask, CGLLS approves or refuses (CCTP 3.2.5)."""
    form = MaintenanceWindowForm(request.POST or None)
    if request.method == "POST":
        if request.user.role not in STAFF_ROLES:
            raise PermissionDenied("Seule l'équipe de l'opérateur demande les maintenances.")
        if form.is_valid():
            try:
                services.maintenance_request(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Maintenance demandée ; la CGLLS est prévenue.")
                return redirect("operations:maintenance_list")
    return render(
        request,
        "operations/maintenance_list.html",
        {
            "windows": MaintenanceWindow.objects.select_related(
                "blocking_anomaly", "requested_by", "decided_by"
            ).order_by("-starts_at"),
            "form": form,
            "can_edit": request.user.role in STAFF_ROLES,
            "can_decide": request.user.role == Role.CGLLS,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.CGLLS)
def maintenance_decide(request, pk: int):
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    form = MaintenanceDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Décision refusée : choisissez « approuver » ou « refuser ».")
        return redirect("operations:maintenance_list")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        sent = services.maintenance_decide(
            window, by=request.user, approve=approve, comment=form.cleaned_data["comment"]
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"Décision non enregistrée : {message}")
    else:
        messages.success(
            request,
            f"Maintenance approuvée ; avis envoyé à {sent} destinataires."
            if approve
            else "Maintenance refusée ; le demandeur est prévenu.",
        )
    return redirect("operations:maintenance_list")


@role_required(*TRACKER_ROLES)
def operator_home(request):
    """The operator's space: the platforms and the ways into the tracker and the reports."""
    platforms = Platform.objects.declaration_platforms().prefetch_related("domains")
    return render(
        request,
        "operations/operator_home.html",
        {
            "platforms": [(p, platform_url(request, p)) for p in platforms],
            # correspondents see the anomaly tracker only
            "operator": request.user.role in PUBLIC_ROLES,
            # security supervision: operator staff only
            "staff": request.user.role in STAFF_ROLES,
        },
    )
