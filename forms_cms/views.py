import io

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from harmonia.forms import errors_apply
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Role
from accounts.permissions import role_required
from forms_cms.forms import (
    DocumentTypeForm,
    FieldEditForm,
    FieldFilterForm,
    FormVersionUploadForm,
)
from forms_cms.models import DocumentType, Field, VersionFile
from forms_cms.selectors import (
    PUBLIC_FILES,
    platform_published_version,
    platform_version_file,
    second_opinion,
    versions_visible_to,
)
from forms_cms.services import (
    FormImportError,
    FormPublishRefused,
    form_version_import,
    form_version_publish,
)
from forms_cms.services.fields import field_update

READERS = (Role.GESTIONNAIRE, Role.ORGANISME, Role.PARTENAIRE, Role.EDITEUR)


@role_required(*READERS)
def version_list(request):
    return render(
        request, "forms_cms/version_list.html", {"versions": versions_visible_to(request.user)}
    )


@role_required(Role.GESTIONNAIRE)
def version_upload(request):
    problems = []
    form = FormVersionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            version = form_version_import(
                document_type=form.cleaned_data["document_type"],
                campaign=form.cleaned_data["campaign"],
                file_name=upload.name,
                content=upload.read(),
                acting_user=request.user,
                draft=form.cleaned_data["draft"],
            )
        except FormImportError as exc:
            problems = exc.problems
        else:
            messages.success(
                request,
                f"Version {version.number} de « {version.document_type} » enregistrée"
                f"{' en brouillon' if version.is_draft else ''} : "
                f"{version.input_count + version.computed_count} champs.",
            )
            return redirect("forms_cms:version_detail", pk=version.pk)
    return render(
        request,
        "forms_cms/version_upload.html",
        {
            "form": form,
            "problems": problems,
            "sample": SAMPLE_ROWS,
            "max_megabytes": settings.HARMONIA_FORM_MAX_BYTES // (1024 * 1024),
        },
    )


# The sample workbook: one row per field, each showing one rule of the upload (the same rules
# as forms_cms/workbook/: defined name = field, TC_ prefix, required = a validation with
# « Ignorer si vide » unchecked, list validation = choices, number format = type, formula =
# computed; a hidden sheet holds the list). (label, name, number format, value or formula,
# validation: None, ("list", source) or (type, required)).
SAMPLE_SHEET, SAMPLE_LISTS = "Bilan", "Listes"
SAMPLE_ROWS = (
    ("Immobilisations", "ACT_IMMO", "#,##0.00", None, ("decimal", True)),
    ("Stocks", "TC_ACT_STOCKS", "#,##0.00", None, None),
    ("Total actif", "TOTAL_ACTIF", "#,##0.00", "=SUM(B4:B5)", None),
    ("Effectif au 31 décembre", "TC_EFFECTIF", "0", None, ("whole", True)),
    ("Taux de vacance", "TAUX_VACANCE", "0.00%", None, None),
    ("Date de clôture", "DATE_CLOTURE", "DD/MM/YYYY", None, ("date", False)),
    ("Catégorie", "CATEGORIE", "General", None, ("list", "LISTE_CATEGORIES")),
    ("Commentaire", "COMMENTAIRE", "@", None, None),
    ("Part des stocks dans l'actif", "PART_STOCKS", "0.00%", "=IF(B6=0,0,B5/B6)", None),
)
SAMPLE_CHOICES = (
    "Office public de l'habitat",
    "Entreprise sociale pour l'habitat",
    "Coopérative d'HLM",
    "Entreprise publique locale",
)
_INPUT_FILL = PatternFill("solid", fgColor="FFFFFFFF")
_COMPUTED_FILL = PatternFill("solid", fgColor="FFE5E5E5")


def sample_workbook_bytes() -> bytes:
    """A small support that the upload accepts and that shows each rule once."""
    wb = Workbook()
    ws = wb.active
    ws.title = SAMPLE_SHEET
    ws["A1"] = "Exemple de support Excel Harmonia — bilan simplifié"
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 22
    for row, (label, name, number_format, content, validation) in enumerate(SAMPLE_ROWS, 4):
        ws.cell(row=row, column=1, value=label)
        cell = ws.cell(row=row, column=2, value=content)
        cell.number_format = number_format
        cell.fill = _COMPUTED_FILL if content else _INPUT_FILL
        wb.defined_names[name] = DefinedName(name, attr_text=f"{SAMPLE_SHEET}!$B${row}")
        if validation is not None:
            kind, option = validation
            if kind == "list":
                dv = DataValidation(type="list", formula1=option, allow_blank=True)
            else:
                dv = DataValidation(
                    type=kind, operator="greaterThanOrEqual", formula1="0", allow_blank=not option
                )
            ws.add_data_validation(dv)
            dv.add(cell.coordinate)
    lists = wb.create_sheet(SAMPLE_LISTS)
    for row, choice in enumerate(SAMPLE_CHOICES, 1):
        lists.cell(row=row, column=1, value=choice)
    lists.sheet_state = "hidden"
    last = len(SAMPLE_CHOICES)
    wb.defined_names["LISTE_CATEGORIES"] = DefinedName(
        "LISTE_CATEGORIES", attr_text=f"{SAMPLE_LISTS}!$A$1:$A${last}"
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@role_required(Role.GESTIONNAIRE, Role.EDITEUR)
def sample_workbook(request):
    """The sample support (generated, no data of the platform's)."""
    response = HttpResponse(
        sample_workbook_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="exemple-support-harmonia.xlsx"'
    return response


@role_required(*READERS)
def version_detail(request, pk):
    version = get_object_or_404(versions_visible_to(request.user), pk=pk)
    sheets = list(version.sheets.values_list("name", flat=True))
    filters = FieldFilterForm(request.GET or None, sheets=sheets)
    fields = version.fields.all()
    if filters.is_valid():
        if q := filters.cleaned_data["q"].strip():
            fields = fields.filter(Q(name__icontains=q) | Q(label__icontains=q))
        if sheet := filters.cleaned_data["sheet"]:
            fields = fields.filter(sheet=sheet)
        if kind := filters.cleaned_data["kind"]:
            fields = fields.filter(kind=kind)
        if filters.cleaned_data["common"]:
            fields = fields.filter(common=True)
    page = Paginator(fields, 200).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "forms_cms/version_detail.html",
        {
            "version": version,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "sheets": sheets,
            "changes": version.changes,
            "files": version.files.filter(kind__in=PUBLIC_FILES).defer("content"),
            # the `formulas` package's recalculation compared with ours (a job after upload):
            # the gestionnaires' check of the workbook, not the organisms' concern
            "opinion": second_opinion(version) if request.user.role == Role.GESTIONNAIRE else None,
            # dossiers of the campaign still on an earlier version (through the reverse
            # relation: moving them is the workflow's screen, linked from the page)
            "to_migrate": version.document_type.dossiers.filter(
                campaign=version.campaign, form_version__number__lt=version.number
            ).count()
            if request.user.role == Role.GESTIONNAIRE and not version.is_draft
            else 0,
        },
    )


@role_required(*READERS)
def version_file(request, pk, kind):
    if kind not in PUBLIC_FILES:
        return HttpResponse(status=404)
    version = get_object_or_404(versions_visible_to(request.user), pk=pk)
    file = get_object_or_404(VersionFile, version=version, kind=kind)
    response = HttpResponse(bytes(file.content), content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


def _ministry_only(request) -> None:
    """Other platforms' versions are served by the ministry platform only (its editors'
    section lists every platform's): elsewhere these addresses do not exist."""
    if getattr(request.tenant, "kind", None) != "ministry":
        raise Http404


@role_required(*READERS)
def platform_version_detail(request, code, pk):
    """A published version of any platform, read in that platform's schema: its files and its
    change list (the ministry's editors' section links here)."""
    _ministry_only(request)
    version = platform_published_version(code, pk)
    if version is None:
        raise Http404
    return render(
        request,
        "forms_cms/platform_version.html",
        {"version": version, "changes": version.changes or {}},
    )


@role_required(*READERS)
def platform_version_download(request, code, pk, kind):
    """A public file (Excel support, specification, XSD) of a published version of any
    platform, read in that platform's schema and served by the ministry platform."""
    _ministry_only(request)
    file = platform_version_file(code, pk, kind)
    if file is None:
        raise Http404
    response = HttpResponse(bytes(file.content), content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@require_POST
@role_required(Role.GESTIONNAIRE)
def version_publish(request, pk):
    """Publish a draft version: it becomes the campaign's current one (the version page then
    offers the migration of the dossiers still on an earlier version)."""
    version = get_object_or_404(versions_visible_to(request.user), pk=pk)
    try:
        form_version_publish(version=version, acting_user=request.user)
    except FormPublishRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Version {version.number} de « {version.document_type} » publiée : les "
            "organismes, les partenaires et les abonnés la voient désormais.",
        )
    return redirect("forms_cms:version_detail", pk=version.pk)


@role_required(Role.GESTIONNAIRE)
def field_edit(request, pk, field_pk):
    """The only screen that edits a field's label and flags (see forms_cms/wagtail_hooks.py)."""
    field = get_object_or_404(Field, pk=field_pk, version_id=pk)
    form = FieldEditForm(request.POST or None, instance=field)
    if request.method == "POST" and form.is_valid():
        try:
            field_update(field=field, values=form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            errors_apply(form, exc)
        else:
            messages.success(request, f"Champ {field.name} mis à jour.")
            return redirect("forms_cms:version_detail", pk=pk)
    return render(request, "forms_cms/field_form.html", {"form": form, "field": field})


@role_required(Role.GESTIONNAIRE)
def document_types(request, pk=None):
    """The kinds of documents this platform collects: list, add, rename."""
    instance = get_object_or_404(DocumentType, pk=pk) if pk else None
    form = DocumentTypeForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Type de document « {saved.label} » enregistré.")
        return redirect("forms_cms:document_types")
    return render(
        request,
        "forms_cms/document_types.html",
        {"form": form, "instance": instance, "types": DocumentType.objects.all()},
    )
