"""The PDF's receivers (connected in ``DeclarationsConfig.ready``): the dossier's write gate
(a transmission's snapshot), and the jobs of a worker that died (the status page says so)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from declarations.pdf.tasks import MSG_ABANDONED, MSG_RESUMED, dossier_pdf_build
from workflow.models import DossierExport


def queue_snapshot_pdfs(*, change, **kwargs) -> None:
    """A transmission recorded its PDF snapshot (``workflow.actions``): queue the worker that
    makes it, inside the transmission's transaction — the job exists only if it commits."""
    pending = change.snapshots.filter(
        kind=DossierExport.Kind.PDF, status=DossierExport.Status.PENDING
    ).values_list("pk", flat=True)
    for export_id in pending:
        dossier_pdf_build.defer(export_id=export_id)


def _stalled_exports(jobs: list[dict]):
    """(schema, export ids) of the PDF jobs among ``jobs``."""
    by_schema: dict[str, list[int]] = {}
    for job in jobs:
        args = job["args"]
        if job["task_name"] == dossier_pdf_build.name and "export_id" in args:
            by_schema.setdefault(args["schema_name"], []).append(args["export_id"])
    return by_schema.items()


def tell_stalled_pdfs(*, retried, failed, **kwargs) -> None:
    """``tenants.signals.jobs_stalled``: a PDF whose worker died is started again on another
    one, or abandoned after three such stops; its status page says which, instead of
    showing « en cours » for ever."""
    unfinished = ~Q(status__in=[DossierExport.Status.DONE, DossierExport.Status.FAILED])
    for schema, ids in _stalled_exports(retried):
        with schema_context(schema):
            DossierExport.objects.filter(unfinished, pk__in=ids).update(error=MSG_RESUMED)
    for schema, ids in _stalled_exports(failed):
        with schema_context(schema):
            DossierExport.objects.filter(unfinished, pk__in=ids).update(
                status=DossierExport.Status.FAILED, error=MSG_ABANDONED, finished_at=timezone.now()
            )
