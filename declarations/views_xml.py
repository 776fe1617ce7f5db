import re

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.history import rows_count, table_change_lines
from declarations.services.imports import (
    dossier_import_workbook,
    dossier_import_xml,
    dossier_validate_workbook,
    dossier_validate_xml,
    version_validate_workbook,
    version_validate_xml,
)
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import format_value
from forms_cms.selectors import form_versions, versions_visible_to
from forms_cms.support import MAX_SUPPORT_BYTES, dossier_support, support_filename
from forms_cms.workbook.xsd import MAX_XML_BYTES
from forms_cms.xmlformat import XmlImportRefused, dossier_xml


class XmlUploadForm(forms.Form):
    file = forms.FileField(label="Fichier XML au format harmonisé")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_XML_BYTES:
            raise forms.ValidationError(
                f"Le fichier dépasse {MAX_XML_BYTES // (1024 * 1024)} Mo : importez-le en "
                "plusieurs fichiers."
            )
        return upload


class SupportUploadForm(forms.Form):
    support = forms.FileField(label="Support Excel rempli (.xlsx)")

    def clean_support(self):
        upload = self.cleaned_data["support"]
        if upload.size > MAX_SUPPORT_BYTES:
            raise forms.ValidationError(
                f"Le fichier dépasse {MAX_SUPPORT_BYTES // (1024 * 1024)} Mo : un support "
                "rempli n'atteint pas cette taille ; repartez du support téléchargé."
            )
        return upload


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xml_filename(dossier) -> str:
    return (
        f"{dossier.document_type.code}-{dossier.campaign.exercise}-{dossier.organism.siren}"
        f"-v{dossier.form_version.number}.xml"
    )


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_xml_export(request, dossier, policy):
    """The dossier as XML: live, or as last transmitted for a gestionnaire while the
    organism has the hand back."""
    response = HttpResponse(dossier_xml(policy.readable()), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{xml_filename(dossier)}"'
    return response


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_support_export(request, dossier, policy):
    """The dossier as its Excel support filled with its values (live, or as last transmitted
    for a gestionnaire while the organism has the hand back)."""
    response = HttpResponse(dossier_support(policy.readable()), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{support_filename(dossier)}"'
    return response


TABLE_CELL = re.compile(r"^(?P<table>\S+) ligne (?P<row>\d+) (?P<column>\S+)$")


def _shown_report(report, fields, tables):
    """The import report as the page shows it: labels beside the names, values in French
    formats, a table's change as its rows added, removed and changed."""

    def show(info, value):
        if value.__class__ is list:  # a multivalued table's rows
            return rows_count(value)
        if info is None:
            return "" if value is None else str(value)
        return format_value(value, info.data_type, info.number_format) or "vide"

    applied = []
    for name, old, new in report.applied:
        meta = tables.get(name)
        if meta is not None:
            details = table_change_lines(meta, old, new)
            applied.append((name, "Liste", show(None, old or []), show(None, new or []), details))
        else:
            info = fields.get(name)
            label = info.label if info else ""
            applied.append((name, label, show(info, old), show(info, new), []))
    differences = []
    for name, imported, current in report.computed_differences:
        cell = TABLE_CELL.match(name)
        meta = tables.get(cell["table"]) if cell else None
        column = meta.column(cell["column"]) if meta else None
        if column is not None:
            label = f"{meta.name}, ligne {cell['row']} — {column.label or column.name}"
            info = column
        else:
            info = fields.get(name)
            label = info.label if info else ""
        differences.append((name, label, show(info, imported), show(info, current)))
    return {"applied": applied, "differences": differences}


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_xml_page(request, dossier, policy):
    """Import a file — XML or a filled Excel support — into the dossier (organisme) and
    export it (both roles)."""
    editable = policy.can_edit
    posted = request.method == "POST"
    # which of the page's two forms was sent (the support's carries kind=support)
    workbook = posted and (request.POST.get("kind") == "support" or "support" in request.FILES)
    xml_posted = posted and not workbook
    form = XmlUploadForm(
        request.POST if xml_posted else None, request.FILES if xml_posted else None
    )
    support_form = SupportUploadForm(
        request.POST if workbook else None, request.FILES if workbook else None
    )
    report, refused = None, False
    if posted and not editable:
        return HttpResponse("Import réservé à l'organisme du dossier.", status=403)
    # « Vérifier sans importer »: the same checks and report, nothing written
    checked_only = posted and bool(request.POST.get("verifier"))
    try:
        if workbook and support_form.is_valid():
            upload = support_form.cleaned_data["support"]
            service = dossier_validate_workbook if checked_only else dossier_import_workbook
            report = service(
                dossier=dossier, data=upload.read(), acting_user=request.user,
                filename=upload.name,
            )  # fmt: skip
        elif xml_posted and form.is_valid():
            service = dossier_validate_xml if checked_only else dossier_import_xml
            report = service(
                dossier=dossier, data=form.cleaned_data["file"].read(), acting_user=request.user
            )
    except XmlImportRefused as exc:
        report, refused = exc.report, True
    return render(
        request,
        "declarations/dossier_xml.html",
        {
            "dossier": dossier,
            "form": form,
            "support_form": support_form,
            "imported_workbook": workbook,
            "editable": editable,
            "report": report,
            "refused": refused,
            "checked_only": checked_only,
            # the dossier's verification page shows it as stored: after an import only
            "verification_url": ""
            if checked_only
            else reverse("declarations:verification", args=[dossier.pk]),
            "shown": _shown_report(
                report, version_fields(dossier.form_version), version_tables(dossier.form_version)
            )
            if report
            else None,
        },
    )


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.document_type.label} — version {obj.number} ({obj.campaign})"


class VersionValidateForm(forms.Form):
    version = VersionChoiceField(
        label="Formulaire et version", queryset=form_versions().none(), empty_label=None
    )
    file = forms.FileField(
        label="Fichier XML au format harmonisé, ou support Excel rempli (.xlsx)",
        help_text="Vérifié comme un import dans un dossier vierge de cette version, quel que "
        "soit le SIREN qu'il porte ; rien n'est enregistré.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # drafts for gestionnaires and editors only
        self.fields["version"].queryset = versions_visible_to(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = MAX_SUPPORT_BYTES if _is_workbook(upload) else MAX_XML_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"Le fichier dépasse {limit // (1024 * 1024)} Mo, la taille maximale d'un "
                "import : scindez la déclaration."
            )
        return upload


def _is_workbook(upload) -> bool:
    """A workbook by its name (the support's checks then say what is wrong with it)."""
    return upload.name.lower().endswith((".xlsx", ".xlsm", ".xls", ".xltm", ".xlam"))


@role_required(Role.EDITEUR, Role.ORGANISME, Role.GESTIONNAIRE)
def version_validate_page(request):
    """« Vérifier un fichier » against a form version, without any dossier: software editors
    test their exports (XML or filled support) as an import would check them."""
    form = VersionValidateForm(request.POST or None, request.FILES or None, user=request.user)
    report, refused, workbook = None, False, False
    if request.method == "POST" and form.is_valid():
        version, upload = form.cleaned_data["version"], form.cleaned_data["file"]
        workbook = _is_workbook(upload)
        try:
            if workbook:
                report = version_validate_workbook(
                    version=version, data=upload.read(), acting_user=request.user,
                    filename=upload.name,
                )  # fmt: skip
            else:
                report = version_validate_xml(
                    version=version, data=upload.read(), acting_user=request.user
                )
        except XmlImportRefused as exc:
            report, refused = exc.report, True
    version = form.cleaned_data.get("version") if report else None
    return render(
        request,
        "declarations/version_validate.html",
        {
            "form": form,
            "report": report,
            "refused": refused,
            "checked_only": True,
            "imported_workbook": workbook,
            "verification_url": "",
            "shown": _shown_report(report, version_fields(version), version_tables(version))
            if report
            else None,
        },
    )
