"""Imports of a dossier: the harmonised XML (page upload and API share this service) and the
filled Excel support. Both read their file into the same plan (report, input values, computed
values) and apply it the same way: one write, history source IMPORT, the same report.

A check without saving (« vérifier sans importer ») runs the very same plan and report with
the write skipped: the values the import would apply are merged into an unsaved copy of the
dossier, recomputed and controlled there (:func:`_as_if_applied`). A software editor checks a
file against a form version through a blank dossier of that version that is never saved
(:func:`version_blank_dossier`). Every refusal leaves through :func:`_refuse`."""

from __future__ import annotations

import copy

from declarations.services.dossiers import MSG_CLOSED, dossier_values_apply
from forms_cms.fields import version_fields, version_tables
from forms_cms.services.runtime import (
    compiled_form,
    computed_of,
    dossier_evaluate,
    dossier_values_list,
)
from forms_cms.support import support_import_plan
from forms_cms.verification import dossier_verify
from forms_cms.xmlformat import (
    ImportReport,
    XmlImportRefused,
    computed_differences,
    import_plan,
    parse_safely,
    table_rows,
)
from organisms.models import Organism
from tenants.models import SecurityEvent
from tenants.security_events import security_event_record
from workflow.models import Dossier, ValueChange
from workflow.policy import DossierPolicy


def _refuse(report: ImportReport):
    """The one way out of a refused import or check (page, API, XML or workbook): nothing
    was changed. A hook for whoever records refused files belongs here."""
    raise XmlImportRefused(report)


def import_root(data: bytes):
    """The root element of an XML file sent to the API (its attributes name the dossier or
    the version), or ``XmlImportRefused`` through the one refusal path (unsafe, too big,
    not well-formed)."""
    report = ImportReport()
    root = parse_safely(data, report)
    if root is None:
        _refuse(report)
    return root


def _closed_report(dossier) -> ImportReport:
    return ImportReport(errors=[MSG_CLOSED.format(step=dossier.get_step_display())])


def dossier_import_xml(*, dossier, data: bytes, acting_user) -> ImportReport:
    """Apply a harmonised XML file to the dossier, or raise ``XmlImportRefused`` (nothing
    changed). Each import overwrites the fields it carries and leaves the others; a table it
    carries has all its rows replaced (in the same single write as the fields)."""
    DossierPolicy(acting_user, dossier).require_owner()
    try:
        if not dossier.accepts_entries:  # steps 1 to 3 only, or handed back
            _refuse(_closed_report(dossier))
        return _plan_report(dossier, import_plan(dossier, data), acting_user, save=True)
    except XmlImportRefused as exc:
        # a security event (the page and the editors' API both come here): who, which
        # dossier, the first reason; nothing was written, so no transaction to roll it back
        security_event_record(
            SecurityEvent.Kind.XML_IMPORT_REFUSED,
            username=acting_user.get_username(),
            detail=f"Dossier {dossier.pk} ({dossier.organism.siren}) : {_refusal(exc.report)}",
        )
        raise


def _refusal(report: ImportReport) -> str:
    """The refusal in one line: the first error, or how many fields were unknown or invalid."""
    parts = list(report.errors[:1])
    if len(report.errors) > 1:
        parts.append(f"{len(report.errors) - 1} autre(s) erreur(s)")
    if report.unknown:
        parts.append(f"{len(report.unknown)} champ(s) inconnu(s)")
    if report.invalid:
        parts.append(f"{len(report.invalid)} valeur(s) invalide(s)")
    return " ; ".join(parts) or "import refusé"


def dossier_import_workbook(
    *, dossier, data: bytes, acting_user, filename: str = "classeur.xlsx"
) -> ImportReport:
    """Apply a filled Excel support (the dossier's form version) to the dossier, or raise
    ``XmlImportRefused`` (nothing changed): every input cell overwrites its field (an empty
    cell clears it), every table has its rows replaced; computed cells are compared with the
    recomputation, never applied."""
    DossierPolicy(acting_user, dossier).require_owner()
    if not dossier.accepts_entries:
        _refuse(_closed_report(dossier))
    return _plan_report(
        dossier, support_import_plan(dossier, data, filename), acting_user, save=True
    )


def dossier_validate_xml(*, dossier, data: bytes, acting_user) -> ImportReport:
    """What :func:`dossier_import_xml` would report for this file, without writing anything:
    the report (values that would be applied, computed differences after the recomputation,
    controls as they would then stand), or ``XmlImportRefused`` with the same refusals. A
    dossier closed to imports refuses too, after the file's own problems."""
    DossierPolicy(acting_user, dossier).require_owner()
    return _plan_report(dossier, _closed_too(dossier, import_plan(dossier, data)), acting_user)


def dossier_validate_workbook(
    *, dossier, data: bytes, acting_user, filename: str = "classeur.xlsx"
) -> ImportReport:
    """What :func:`dossier_import_workbook` would report for this filled support, without
    writing anything (see :func:`dossier_validate_xml`)."""
    DossierPolicy(acting_user, dossier).require_owner()
    plan = support_import_plan(dossier, data, filename)
    return _plan_report(dossier, _closed_too(dossier, plan), acting_user)


def version_blank_dossier(version, *, organism=None) -> Dossier:
    """An unsaved, empty dossier of ``version`` (for ``organism``, or for no organism in
    particular): what a file is checked against when no dossier exists. Never saved."""
    form = compiled_form(version)
    return Dossier(
        organism=organism or Organism(siren="", name=""),
        campaign=version.campaign,
        document_type=version.document_type,
        form_version=version,
        values={},
        computed=dossier_evaluate(form, {}),
    )


def version_validate_xml(*, version, data: bytes, acting_user) -> ImportReport:
    """Check an XML file against a form version (its XSD, field rules, recomputation and
    controls) as an import into a new, empty dossier would, whatever organism the file names
    (a software editor's test file). Nothing is read from or written to any dossier."""
    dossier = version_blank_dossier(version)
    return _plan_report(dossier, import_plan(dossier, data, any_siren=True), acting_user)


def version_validate_workbook(
    *, version, data: bytes, acting_user, filename: str = "classeur.xlsx"
) -> ImportReport:
    """Check a filled support against a form version (see :func:`version_validate_xml`)."""
    dossier = version_blank_dossier(version)
    plan = support_import_plan(dossier, data, filename, any_siren=True)
    return _plan_report(dossier, plan, acting_user)


def _closed_too(dossier, plan):
    report, values, computed = plan
    if not dossier.accepts_entries:
        report.errors.extend(_closed_report(dossier).errors)
    return report, values, computed


def _as_if_applied(dossier, saved: dict) -> tuple[Dossier, list]:
    """An unsaved copy of the dossier holding ``saved`` (stored values; None clears) and
    the computed values that follow from them — what the write gate would store — with the
    form's values list they come from."""
    shown = copy.copy(dossier)
    values = {k: v for k, v in dossier.values.items() if k not in saved}
    values.update({k: v for k, v in saved.items() if v is not None})
    shown.values = values
    form = compiled_form(dossier.form_version)
    v = dossier_values_list(form, values)
    shown.computed = computed_of(form, v)
    return shown, v


def _plan_report(dossier, plan, acting_user, *, save: bool = False) -> ImportReport:
    """The report of a plan applied (``save``) or only checked: the same steps, the same
    report; only the write differs."""
    report, values, computed = plan
    if report.refused:
        _refuse(report)
    # a table the file gives as it already is (the pre-filled rows included) is unchanged
    same_tables = [
        name
        for name in version_tables(dossier.form_version)
        if name in values and values[name] == table_rows(dossier, name)
    ]
    carried = list(values)
    values = {n: v for n, v in values.items() if n not in same_tables}
    before = dict(dossier.values)
    if save:
        result = dossier_values_apply(
            dossier=dossier,
            values=values,
            acting_user=acting_user,
            source=ValueChange.Source.IMPORT,
        )
        saved, after, v = result.saved, dossier, result.evaluated
    else:  # what the write gate would save: the values that differ from the stored ones
        saved = {name: value for name, value in values.items() if before.get(name) != value}
        after, v = _as_if_applied(dossier, saved)
    report.applied = [(name, before.get(name), value) for name, value in saved.items()]
    report.unchanged = sorted(name for name in carried if name not in saved)
    report.computed_differences = computed_differences(
        after, computed, version_fields(dossier.form_version)
    )
    # the controls, so that the software (or the person) knows where the dossier stands
    verification = dossier_verify(after, v=v)  # on the values the save evaluated
    report.blocking_failures = [r.code for r in verification.blocking_failures]
    report.warnings = [r.code for r in verification.warnings]
    return report
