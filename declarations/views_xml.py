from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.services.imports import dossier_import_xml
from forms_cms.fields import version_fields
from forms_cms.formats import format_value
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


def xml_filename(dossier) -> str:
    return (
        f"{dossier.document_type.code}-{dossier.campaign.exercise}-{dossier.organism.siren}"
        f"-v{dossier.form_version.number}.xml"
    )


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=True)
def dossier_xml_export(request, dossier, policy):
    """The dossier as XML: live, or as last transmitted for a gestionnaire while the
    organism has the hand back."""
    response = HttpResponse(dossier_xml(policy.readable()), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{xml_filename(dossier)}"'
    return response


def _shown_report(report, fields):
    def show(name, value):
        if value.__class__ is list:  # a multivalued table's rows
            return f"{len(value)} ligne" + ("s" if len(value) > 1 else "")
        info = fields.get(name)
        if info is None:
            return "" if value is None else str(value)
        return format_value(value, info.data_type, info.number_format) or "vide"

    return {
        "applied": [(n, show(n, old), show(n, new)) for n, old, new in report.applied],
        "differences": [
            (n, show(n, imported), show(n, current))
            for n, imported, current in report.computed_differences
        ],
    }


@role_required(Role.ORGANISME, Role.GESTIONNAIRE)
@dossier_view(values=True)
def dossier_xml_page(request, dossier, policy):
    """Import a file into the dossier (organisme) and export it (both roles)."""
    editable = policy.can_edit
    form = XmlUploadForm(request.POST or None, request.FILES or None)
    report, refused = None, False
    if request.method == "POST" and editable and form.is_valid():
        try:
            report = dossier_import_xml(
                dossier=dossier, data=form.cleaned_data["file"].read(), acting_user=request.user
            )
        except XmlImportRefused as exc:
            report, refused = exc.report, True
    elif request.method == "POST" and not editable:
        return HttpResponse("Import réservé à l'organisme du dossier.", status=403)
    fields = version_fields(dossier.form_version)
    return render(
        request,
        "declarations/dossier_xml.html",
        {
            "dossier": dossier,
            "form": form,
            "editable": editable,
            "report": report,
            "refused": refused,
            "shown": _shown_report(report, fields) if report else None,
        },
    )
