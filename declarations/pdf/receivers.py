"""The PDF's receiver of the dossier's write gate (connected in ``DeclarationsConfig.ready``)."""

from __future__ import annotations

from declarations.pdf.tasks import dossier_pdf_build
from workflow.models import DossierExport


def queue_snapshot_pdfs(*, change, **kwargs) -> None:
    """A transmission recorded its PDF snapshot (``workflow.actions``): queue the worker that
    makes it, inside the transmission's transaction — the job exists only if it commits."""
    pending = change.snapshots.filter(
        kind=DossierExport.Kind.PDF, status=DossierExport.Status.PENDING
    ).values_list("pk", flat=True)
    for export_id in pending:
        dossier_pdf_build.defer(export_id=export_id)
