import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.grid import sheet_table
from declarations.receipts.selectors import latest_receipt, shown_actions
from declarations.selectors import carry_over_view, dossiers_visible_to, grid_tables
from declarations.services import (
    DossierClosed,
    NoFormVersion,
    SaveRefused,
    dossier_open,
    dossier_values_save,
)
from declarations.tables.shown import changed_values
from declarations.views_grid import sheet_css_url
from forms_cms.fields import version_fields, version_sheets
from forms_cms.formats import format_value
from forms_cms.models import DocumentType, SheetLayout
from forms_cms.selectors import versions_visible_to
from forms_cms.verification import (
    completion_percent,
    dossier_blocking_failures_stored,
    dossier_blocking_outline,
    dossier_checklist,
    required_progress,
)
from workflow.actions import dossier_trial_open
from workflow.models import Campaign, FiabilisationStep
from workflow.selectors import offers_for
from workflow.services.lifecycle import available_actions

MAX_JSON_BYTES = 1024 * 1024


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
def dossier_list(request):
    dossiers = dossiers_visible_to(request.user).order_by(
        "-campaign__exercise", "document_type__position", "organism__name"
    )
    offers = []
    if request.user.role == Role.ORGANISME:
        offers = [
            (o.campaign, o.document_type, o.dossier, _completion(o.dossier), o.required, o.schedule)
            for o in offers_for(request.user.membership.organism, dossiers)
        ]
    # a gestionnaire's list holds hundreds of dossiers: no completion computed per row there
    return render(
        request,
        "declarations/dossier_list.html",
        {"dossiers": dossiers[:500], "offers": offers},
    )


def _completion(dossier) -> dict | None:
    """Required fields filled / total, for the gauge (an organism has few dossiers)."""
    if dossier is None:
        return None
    filled, total = required_progress(dossier)
    return {"filled": filled, "total": total, "percent": completion_percent(filled, total)}


@role_required(Role.ORGANISME)
def dossier_start(request, campaign_pk, type_pk):
    campaign = get_object_or_404(Campaign, pk=campaign_pk)
    document_type = get_object_or_404(DocumentType, pk=type_pk)
    organism = request.user.membership.organism
    try:
        dossier = dossier_open(
            organism=organism,
            campaign=campaign,
            document_type=document_type,
            acting_user=request.user,
        )
    except NoFormVersion as exc:
        messages.error(request, str(exc))
        return redirect("declarations:list")
    return redirect("declarations:sheet", pk=dossier.pk, index=0)


@require_POST
@role_required(Role.GESTIONNAIRE, Role.EDITEUR)
def dossier_trial_start(request, version_pk):
    """« Essayer sur un dossier de test »: the draft version's trial dossier, opened on its
    first sheet (the version's page, for a published one, with why not)."""
    version = get_object_or_404(versions_visible_to(request.user), pk=version_pk)
    try:
        dossier = dossier_trial_open(version=version, acting_user=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("forms_cms:version_detail", pk=version.pk)
    return redirect("declarations:sheet", pk=dossier.pk, index=0)


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_sheet(request, dossier, policy, index=0):
    # the tabs need names only (kept by the process); of the layouts (1.4 MB of JSON for the
    # ER) only the shown sheet's is read
    visible = [s for s in version_sheets(dossier.form_version) if not s.hidden]
    if not visible:
        raise Http404("Ce formulaire n'a pas de feuille visible.")
    shown_sheet = next((s for s in visible if s.position == index), visible[0])
    current = SheetLayout.objects.get(pk=shown_sheet.pk)
    current.version = dossier.form_version  # read by the grid's stylesheet: no query
    editable = policy.can_edit
    shown = policy.readable()
    # the count kept at each save says when no blocking control fails: nothing to run then;
    # else the controls run on the stored values (each write stores the recomputed ones)
    if shown is dossier and dossier.failing_controls == 0:
        known = []
    else:  # the page shows counts only: the stored verdicts' outline when they hold
        known = dossier_blocking_outline(shown)
        if known is None:
            known = dossier_blocking_failures_stored(shown)
    checklist = dossier_checklist(shown, blocking=known)
    tabs = [(sheet, checklist.sheet(sheet.name)) for sheet in visible]
    tables = grid_tables(dossier.form_version, current.name, shown.values, shown.computed)
    carry_over = carry_over_view(dossier, shown)
    table = sheet_table(
        current.layout,
        version_fields(dossier.form_version),
        shown.values,
        shown.computed,
        editable=editable,
        tables=tables,
        notes=carry_over.notes,
    )
    return render(
        request,
        "declarations/dossier_sheet.html",
        {
            "dossier": dossier,
            "policy": policy,
            "snapshot": getattr(shown, "snapshot", None),
            "sheets": visible,
            "tabs": tabs,
            "checklist": checklist,
            "current": current,
            "current_checks": checklist.sheet(current.name),
            "table": table,
            "sheet_css_url": sheet_css_url(current),
            "sheet_tables": tables,
            "carry_over": carry_over,
            "editable": editable,
            "actions": shown_actions(
                dossier,
                available_actions(dossier, request.user),
                checklist=checklist if shown is dossier else None,
            ),
            "receipt": latest_receipt(dossier),
            "substeps": FiabilisationStep.objects.all(),
            "journal": dossier.step_changes.select_related("changed_by")[:20],
            "snapshots": dossier.exports.filter(step_change__isnull=False)
            .defer("content", "frozen_values", "frozen_computed")
            .order_by("-requested_at"),
        },
    )


@require_POST
@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True, defer=("values", "computed"), related=("form_version",))
def dossier_save(request, dossier, policy):
    """Save cells typed in the online form (JSON in, JSON out)."""
    if len(request.body) > MAX_JSON_BYTES:
        return JsonResponse({"message": "Requête trop volumineuse."}, status=413)
    try:
        payload = json.loads(request.body)
        entries = {str(k): v for k, v in payload["entries"].items()}
        seen = payload.get("seen") or {}
        client_revision = int(payload.get("revision", dossier.revision))
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"message": "Requête illisible."}, status=400)
    fields = version_fields(dossier.form_version)
    step_before = dossier.step
    try:
        result = dossier_values_save(
            dossier=dossier, entries=entries, seen=seen, acting_user=request.user
        )
    except DossierClosed as exc:
        return JsonResponse({"message": str(exc)}, status=403)
    except SaveRefused as exc:
        current = {
            name: _shown(fields, name, value) | {"seen": value}
            for name, value in exc.conflicts.items()
        }
        status = 409 if exc.conflicts else 400
        return JsonResponse({"errors": exc.errors, "current": current}, status=status)
    return JsonResponse(
        {
            "saved": {
                name: _shown(fields, name, value) | {"seen": value}
                for name, value in result.saved.items()
            },
            # computed cells, and the calculated columns of tables reading the saved cells
            **changed_values(dossier.form_version, result.computed),
            "revision": result.revision,
            "others": result.revision - client_revision > len(entries),
            # the first value moves the dossier to step 2: the page shows where it stands
            "step": dossier.step_label,
            "stepper": (
                render_to_string("declarations/_stepper.html", {"dossier": dossier})
                if dossier.step != step_before
                else None
            ),
        }
    )


def _shown(fields, name, value) -> dict:
    info = fields.get(name)
    if info is None:
        return {"display": ""}
    return {"display": format_value(value, info.data_type, info.number_format)}
