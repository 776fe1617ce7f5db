"""Imports of a dossier: the harmonised XML (page upload and API share this service) and the
filled Excel support. Both read their file into the same plan (report, input values, computed
values) and apply it the same way: one write, history source IMPORT, the same report."""

from __future__ import annotations

from declarations.services.dossiers import MSG_CLOSED, dossier_values_apply
from forms_cms.fields import version_fields, version_tables
from forms_cms.support import support_import_plan
from forms_cms.verification import dossier_verify
from forms_cms.xmlformat import (
    ImportReport,
    XmlImportRefused,
    computed_differences,
    import_plan,
    table_rows,
)
from tenants.models import SecurityEvent
from tenants.security_events import security_event_record
from workflow.models import ValueChange
from workflow.policy import DossierPolicy


def dossier_import_xml(*, dossier, data: bytes, acting_user) -> ImportReport:
    """Apply a harmonised XML file to the dossier, or raise ``XmlImportRefused`` (nothing
    changed). Each import overwrites the fields it carries and leaves the others; a table it
    carries has all its rows replaced (in the same single write as the fields)."""
    DossierPolicy(acting_user, dossier).require_owner()
    try:
        if not dossier.accepts_entries:  # steps 1 to 3 only, or handed back
            report = ImportReport(errors=[MSG_CLOSED.format(step=dossier.get_step_display())])
            raise XmlImportRefused(report)
        return _plan_apply(dossier, import_plan(dossier, data), acting_user)
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
        report = ImportReport(errors=[MSG_CLOSED.format(step=dossier.get_step_display())])
        raise XmlImportRefused(report)
    return _plan_apply(dossier, support_import_plan(dossier, data, filename), acting_user)


def _plan_apply(dossier, plan, acting_user) -> ImportReport:
    report, values, computed = plan
    if report.refused:
        raise XmlImportRefused(report)
    # a table the file gives as it already is (the pre-filled rows included) is unchanged
    same_tables = [
        name
        for name in version_tables(dossier.form_version)
        if name in values and values[name] == table_rows(dossier, name)
    ]
    carried = list(values)
    values = {n: v for n, v in values.items() if n not in same_tables}
    before = dict(dossier.values)
    result = dossier_values_apply(
        dossier=dossier,
        values=values,
        acting_user=acting_user,
        source=ValueChange.Source.IMPORT,
    )
    report.applied = [(name, before.get(name), value) for name, value in result.saved.items()]
    report.unchanged = sorted(name for name in carried if name not in result.saved)
    report.computed_differences = computed_differences(
        dossier, computed, version_fields(dossier.form_version)
    )
    # the controls, so that the software (or the person) knows where the dossier stands
    verification = dossier_verify(dossier)
    report.blocking_failures = [r.code for r in verification.blocking_failures]
    report.warnings = [r.code for r in verification.warnings]
    return report
