"""The PDF of a dossier, made by a worker: progress recorded sheet by sheet, then the file (or
the reason it could not be made)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from declarations.pdf.render import dossier_pdf, dossier_pdf_filename
from tenants.jobs import tenant_task
from workflow.models import DossierExport

logger = logging.getLogger(__name__)

MSG_FAILED = (
    "La génération du PDF a échoué ({reason}). Réessayez ; si le problème persiste, "
    "signalez-le à l'assistance en indiquant le dossier concerné."
)
# said on the status page when the worker making the PDF died (tenants.retry_stalled_jobs)
MSG_RESUMED = (
    "Le serveur qui préparait ce PDF s'est arrêté avant la fin : la préparation a repris "
    "sur un autre serveur."
)
MSG_ABANDONED = (
    "La préparation du PDF a été interrompue plusieurs fois par l'arrêt du serveur qui la "
    "faisait : elle est abandonnée. Demandez un nouveau PDF ; si le problème persiste, "
    "signalez-le à l'assistance en indiquant le dossier concerné."
)
# share of the progress bar for laying out the sheets; the rest is writing the file
LAYOUT_SHARE = 90


@tenant_task(name="declarations.dossier_pdf")
def dossier_pdf_build(*, export_id: int) -> None:
    """Render the export's dossier as PDF and store it on the export."""
    exports = DossierExport.objects.filter(pk=export_id)
    export = (
        exports.select_related(
            "dossier__organism",
            "dossier__campaign",
            "dossier__document_type",
            "dossier__form_version",
        )
        .defer("content")
        .first()
    )
    if export is None or export.status in (DossierExport.Status.DONE, DossierExport.Status.FAILED):
        return  # deleted meanwhile, already made by an earlier attempt, or abandoned
    # the note that an earlier attempt's worker died (MSG_RESUMED) stays on the page
    exports.update(status=DossierExport.Status.RUNNING, progress=0)

    def progress(done: int, total: int) -> None:
        exports.update(progress=min(LAYOUT_SHARE, LAYOUT_SHARE * done // max(total, 1)))

    try:
        if export.frozen_values is not None:  # a transmission snapshot: the values of then
            content = dossier_pdf(
                export.dossier,
                progress=progress,
                values=export.frozen_values,
                computed=export.frozen_computed,
                step=export.frozen_step,
            )
        else:
            content = dossier_pdf(export.dossier, progress=progress)
    except Exception as exc:
        logger.exception("PDF export %s of dossier %s failed", export_id, export.dossier_id)
        exports.update(
            status=DossierExport.Status.FAILED,
            error=MSG_FAILED.format(reason=_reason(exc)),
            finished_at=timezone.now(),
        )
        return
    exports.update(
        status=DossierExport.Status.DONE,
        progress=100,
        content=content,
        filename=export.filename or dossier_pdf_filename(export.dossier),
        finished_at=timezone.now(),
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        return "mémoire insuffisante sur le serveur"
    return "erreur interne lors de la mise en page"


def dossier_pdf_request(*, dossier, acting_user, frozen: bool = False) -> DossierExport:
    """Record a PDF export of ``dossier`` and queue the job that makes it (both in one
    transaction: the queue is in the same database, so a worker never sees one without the
    other). ``frozen``: print the values ``dossier`` carries (a transmitted snapshot read by
    a gestionnaire while the organism has the hand back), not the live ones."""
    frozen_fields = (
        {
            "frozen_values": dossier.values,
            "frozen_computed": dossier.computed,
            "frozen_step": dossier.step_label,
        }
        if frozen
        else {}
    )
    with transaction.atomic():
        export = DossierExport.objects.create(
            dossier_id=dossier.pk,
            kind=DossierExport.Kind.PDF,
            requested_by=acting_user,
            filename=dossier_pdf_filename(dossier),
            **frozen_fields,
        )
        dossier_pdf_build.defer(export_id=export.pk)
    return export
