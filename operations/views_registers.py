"""The registers of the operator's space (public host only): evolution requests, time spent on
form integration, the version tracking document.

Who does what (CCTP 3.2.2, 3.2.6, 3.5.2): the operator's staff (hotline, maintenance) record
and estimate evolution requests, mark them delivered, record form-integration time and send its
report to the project committee, record releases; CGLLS reads everything and alone decides an
evolution request's situation. Correspondents have none of these pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import PUBLIC_ROLES, Role
from accounts.permissions import role_required
from operations import evolutions, versions, workload
from operations.forms import (
    EvolutionDecisionForm,
    EvolutionDeliveryForm,
    EvolutionRequestForm,
    FormWorkEntryForm,
    ReleaseForm,
)
from operations.models import EvolutionRequest, EvolutionStatus, FormWorkEntry, Release
from operations.views import STAFF_ROLES, XLSX


def _attachment(content: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf" if fmt == "pdf" else XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _saved(form, write) -> bool:
    """Run ``write(**cleaned_data)`` when the form is valid; its ValidationError goes onto the
    form (by field). True when written."""
    if not form.is_valid():
        return False
    try:
        write(**form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


# --- Evolution requests -------------------------------------------------------------------------


@role_required(*PUBLIC_ROLES)
def evolution_list(request):
    can_edit = request.user.role in STAFF_ROLES
    form = EvolutionRequestForm(
        request.POST or None, initial={"requested_on": timezone.localdate()}
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(
                "Seule l'équipe de l'opérateur recense les demandes d'évolution."
            )
        if _saved(
            form, lambda **data: evolutions.evolution_request_create(by=request.user, **data)
        ):
            messages.success(request, "Demande d'évolution enregistrée.")
            return redirect("operations:evolution_list")
    status = request.GET.get("situation", "")
    requests = EvolutionRequest.objects.select_related("release")
    if status in EvolutionStatus.values:
        requests = requests.filter(status=status)
    return render(
        request,
        "operations/evolutions/list.html",
        {
            "requests": requests,
            "form": form,
            "can_edit": can_edit,
            "statuses": EvolutionStatus.choices,
            "status": status,
            "census_year": evolutions.census_year(),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(*PUBLIC_ROLES)
def evolution_detail(request, number: str):
    item = get_object_or_404(EvolutionRequest.objects.select_related("release"), number=number)
    can_edit = request.user.role in STAFF_ROLES
    form = EvolutionRequestForm(request.POST or None, instance=item)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(
                "Seule l'équipe de l'opérateur modifie les demandes d'évolution."
            )
        # the form works on its own copy: the service re-reads the stored request
        if _saved(
            form,
            lambda **data: evolutions.evolution_request_update(item, by=request.user, **data),
        ):
            messages.success(request, "Demande d'évolution modifiée.")
            return redirect("operations:evolution_detail", number=number)
        item.refresh_from_db()
    return render(
        request,
        "operations/evolutions/detail.html",
        {
            "item": item,
            "form": form,
            "can_edit": can_edit,
            "can_decide": request.user.role == Role.CGLLS
            and item.status != EvolutionStatus.DELIVERED,
            "can_deliver": can_edit and item.status == EvolutionStatus.RETAINED,
            "decision_form": EvolutionDecisionForm(initial={"status": item.status}),
            "delivery_form": EvolutionDeliveryForm(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _posted(request, form, write) -> bool:
    """A small POST form (decision, delivery): True when written; otherwise each error
    becomes a message naming its field."""
    if _saved(form, write):
        return True
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label} : {error}" if label else error)
    return False


@require_POST
@role_required(Role.CGLLS)
def evolution_decide(request, number: str):
    item = get_object_or_404(EvolutionRequest, number=number)
    form = EvolutionDecisionForm(request.POST)
    if _posted(
        request,
        form,
        lambda **data: evolutions.evolution_request_decide(item, by=request.user, **data),
    ):
        messages.success(request, "Situation de la demande enregistrée.")
    return redirect("operations:evolution_detail", number=number)


@require_POST
@role_required(*STAFF_ROLES)
def evolution_deliver(request, number: str):
    item = get_object_or_404(EvolutionRequest, number=number)
    form = EvolutionDeliveryForm(request.POST)
    if _posted(
        request,
        form,
        lambda **data: evolutions.evolution_request_deliver(item, by=request.user, **data),
    ):
        messages.success(request, "Demande marquée réalisée.")
    return redirect("operations:evolution_detail", number=number)


def _year(value: str | None, default: int) -> int | None:
    """A year from a query string; None when it is not one."""
    if value in (None, ""):
        return default
    try:
        year = int(value)
    except ValueError:
        return None
    return year if 2000 <= year <= 2100 else None


@role_required(*PUBLIC_ROLES)
def evolution_synthesis(request):
    """The yearly synthesis for the steering committee: a page, or its PDF or XLSX."""
    year = _year(request.GET.get("annee"), evolutions.census_year())
    fmt = request.GET.get("format", "")
    error = ""
    if year is None:
        error = "L'année doit être un nombre entre 2000 et 2100, par exemple 2026."
    elif fmt not in ("", "pdf", "xlsx"):
        error = "Format inconnu : choisissez PDF ou XLSX."
    if error:
        return render(request, "operations/evolutions/synthesis.html", {"error": error}, status=400)
    synthesis = evolutions.evolution_synthesis(year)
    name = f"synthese-evolutions-{year}-{year + 1}"
    if fmt == "pdf":
        return _attachment(evolutions.synthesis_pdf(synthesis), fmt, name)
    if fmt == "xlsx":
        return _attachment(evolutions.synthesis_xlsx(synthesis), fmt, name)
    return render(request, "operations/evolutions/synthesis.html", {"synthesis": synthesis})


# --- Form-integration workload ------------------------------------------------------------------


def _recent_periods(today) -> list[workload.Period]:
    """The periods of this year and last year already begun, latest first."""
    periods = workload.periods_of(today.year - 1) + workload.periods_of(today.year)
    return [p for p in reversed(periods) if p.start <= today]


@role_required(*PUBLIC_ROLES)
def workload_list(request):
    can_edit = request.user.role in STAFF_ROLES
    today = timezone.localdate()
    form = FormWorkEntryForm(request.POST or None, initial={"day": today})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(
                "Seule l'équipe de l'opérateur enregistre les temps d'intégration."
            )
        if _saved(form, lambda **data: workload.form_work_entry_create(by=request.user, **data)):
            messages.success(request, "Temps enregistré.")
            return redirect("operations:workload_list")
    period = workload.period_containing(today)
    return render(
        request,
        "operations/workload/list.html",
        {
            "form": form,
            "can_edit": can_edit,
            "entries": FormWorkEntry.objects.filter(day__year=today.year),
            "report": workload.workload_report(period),
            "periods": _recent_periods(today),
            "committee": workload.committee_configured(),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(*STAFF_ROLES)
def workload_delete(request, pk: int):
    entry = get_object_or_404(FormWorkEntry, pk=pk)
    workload.form_work_entry_delete(entry, by=request.user)
    messages.success(request, "Temps supprimé.")
    return redirect("operations:workload_list")


def _period(request, source) -> tuple[workload.Period | None, str]:
    today = timezone.localdate()
    code = source.get("periode") or workload.period_containing(today).code
    try:
        return workload.parse_period(code, today=today), ""
    except ValidationError as error:
        return None, error.messages[0]


@role_required(*PUBLIC_ROLES)
def workload_report(request):
    period, error = _period(request, request.GET)
    fmt = request.GET.get("format", "")
    if not error and fmt not in ("", "pdf", "xlsx"):
        error = "Format inconnu : choisissez PDF ou XLSX."
    context = {
        "periods": _recent_periods(timezone.localdate()),
        "can_send": request.user.role in STAFF_ROLES,
        "committee": workload.committee_configured(),
    }
    if error:
        context["error"] = error
        return render(request, "operations/workload/report.html", context, status=400)
    report = workload.workload_report(period)
    name = f"integration-formulaires-{period.code}"
    if fmt == "pdf":
        return _attachment(workload.report_pdf(report), fmt, name)
    if fmt == "xlsx":
        return _attachment(workload.report_xlsx(report), fmt, name)
    return render(request, "operations/workload/report.html", {**context, "report": report})


@require_POST
@role_required(*STAFF_ROLES)
def workload_send(request):
    period, error = _period(request, request.POST)
    if not error:
        try:
            sent = workload.workload_report_send(period)
        except ValidationError as refused:
            error = refused.messages[0]
    if error:
        messages.error(request, error)
        code = request.POST.get("periode", "")
        return redirect(f"{_report_url()}?periode={code}" if period else _report_url())
    messages.success(
        request, f"Rapport « {period.label} » envoyé au comité de projet ({sent} destinataires)."
    )
    return redirect(f"{_report_url()}?periode={period.code}")


def _report_url() -> str:
    return reverse("operations:workload_report")


# --- Releases: edition and the version tracking document -----------------------------------------


@role_required(*PUBLIC_ROLES)
def version_document(request):
    fmt = request.GET.get("format", "")
    if fmt not in ("", "pdf", "xlsx"):
        return render(
            request,
            "operations/version_document.html",
            {"error": "Format inconnu : choisissez PDF ou XLSX."},
            status=400,
        )
    document = versions.version_document()
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "pdf":
        return _attachment(versions.document_pdf(document), fmt, f"suivi-des-versions-{stamp}")
    if fmt == "xlsx":
        return _attachment(versions.document_xlsx(document), fmt, f"suivi-des-versions-{stamp}")
    return render(request, "operations/version_document.html", {"document": document})


@role_required(*STAFF_ROLES)
def release_edit(request, pk: int):
    release = get_object_or_404(Release, pk=pk)
    form = ReleaseForm(request.POST or None, instance=Release.objects.get(pk=pk))
    if request.method == "POST" and _saved(
        form, lambda **data: versions.release_save(release, **data)
    ):
        messages.success(request, f"Version {form.cleaned_data['number']} modifiée.")
        return redirect("operations:release_list")
    return render(
        request,
        "operations/release_edit.html",
        {"form": form, "release": release},
        status=400 if request.method == "POST" else 200,
    )
