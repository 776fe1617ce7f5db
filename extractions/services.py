"""The one write path of extractions: asked for (journalled, job queued), made by the worker
(progress, file stored), downloaded (journalled; a partner's in its access log too), expired
(file deleted)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import tempfile

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone
from wagtail.log_actions import log

from extractions.layout import Layout
from extractions.models import Extraction
from extractions.sources import Source
from extractions.writers import WRITERS, TooWide
from partners.models import AccessLog, Transmission
from partners.services import access_log_record_many

logger = logging.getLogger(__name__)

MSG_FAILED = (
    "L'extraction a échoué ({reason}). Réessayez ; si le problème persiste, signalez-le à "
    "l'assistance en indiquant le document et la campagne."
)
MSG_EMPTY = (
    "Aucun dossier de cette sélection ne peut être extrait : les dossiers aux étapes 1 à 3 "
    "appartiennent encore à l'organisme. Élargissez la sélection ou attendez leur transmission."
)
# the files' names say what they hold, in French: ER_SOCIAUX-2024-valeurs-long.zip
FILE_WORDS = {
    "long_csv": "valeurs-long",
    "wide_csv": "valeurs-large",
    "wide_xlsx": "valeurs-large",
    "xml_zip": "xml",
}
PROGRESS_EVERY = 10  # dossiers between two progress updates


def storage():
    return storages["extractions"]


def retention() -> dt.timedelta:
    return dt.timedelta(days=settings.HARMONIA_EXTRACTION_DAYS)


def extraction_request(
    *,
    user,
    campaign,
    document_type,
    format: str,
    values: str = Extraction.Values.TRANSMITTED,
    scope: list[int],
    scope_label: str = "",
    partner=None,
) -> Extraction:
    """Record an extraction and queue the job that makes it (one transaction: a worker never
    sees one without the other). ``scope``: the dossiers (a partner: the transmissions) the
    requester may read now; the job filters them by the policy again."""
    from extractions.tasks import extraction_build

    with transaction.atomic():
        extraction = Extraction.objects.create(
            requested_by=user,
            username=user.get_username(),
            partner=partner,
            campaign=campaign,
            document_type=document_type,
            format=format,
            values=Extraction.Values.TRANSMITTED if partner else values,
            scope=sorted(int(i) for i in scope),
            scope_label=scope_label[:500],
        )
        log(
            instance=extraction,
            action="harmonia.extraction_requested",
            user=user,
            data=_journal(extraction),
        )
        extraction_build.defer(extraction_id=extraction.pk)
    return extraction


def _journal(extraction: Extraction) -> dict:
    return {
        "campagne": str(extraction.campaign),
        "document": extraction.document_type.code,
        "format": extraction.format,
        "valeurs": extraction.values,
        "partenaire": extraction.partner.name if extraction.partner_id else "",
        "sélection": extraction.scope_label,
        "dossiers demandés": len(extraction.scope),
    }


def extraction_make(extraction_id: int) -> None:
    """The job's body: write the file row by row into a temporary file, store it, record
    progress on the way and the expiry date at the end (or why it failed)."""
    rows = Extraction.objects.filter(pk=extraction_id)
    extraction = rows.select_related("requested_by", "campaign", "document_type").first()
    if extraction is None or extraction.finished:
        return  # deleted meanwhile, or already made by an earlier attempt (a job whose worker
        # died while running is queued again: it starts over)
    rows.update(status=Extraction.Status.RUNNING, progress=0, error="")
    source = Source.of(extraction)
    total = len(source)
    if total == 0:
        rows.update(status=Extraction.Status.FAILED, error=MSG_EMPTY, finished_at=timezone.now())
        return
    write, suffix = WRITERS[extraction.format]
    stem = (
        f"{extraction.document_type.code}-{extraction.campaign.exercise}-"
        f"{FILE_WORDS[extraction.format]}"
    )
    included: list[int] = []

    def entries():
        for entry in source:
            included.append(entry.key)
            yield entry

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            rows.update(progress=min(99, 100 * done // total))

    handle, path = tempfile.mkstemp(suffix=suffix, prefix="extraction-")
    os.close(handle)
    try:
        write(entries(), Layout.of(source.versions()), path, stem, progress)
        name = f"{connection.schema_name}/{extraction.pk}-{secrets.token_hex(8)}/{stem}{suffix}"
        with open(path, "rb") as f:
            stored = storage().save(name, File(f))
        size = os.path.getsize(path)
    except Exception as exc:
        logger.exception("Extraction %s failed", extraction_id)
        reason = str(exc) if isinstance(exc, TooWide) else _reason(exc)
        rows.update(
            status=Extraction.Status.FAILED,
            error=str(exc) if isinstance(exc, TooWide) else MSG_FAILED.format(reason=reason),
            finished_at=timezone.now(),
        )
        return
    finally:
        os.unlink(path)
    now = timezone.now()
    rows.update(
        status=Extraction.Status.DONE,
        progress=100,
        file=stored,
        filename=f"{stem}{suffix}",
        size=size,
        dossier_count=len(included),
        included=included,
        finished_at=now,
        expires_at=now + retention(),
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, MemoryError):
        return "mémoire insuffisante sur le serveur"
    if isinstance(exc, OSError):
        return "espace disque insuffisant ou stockage indisponible"
    return "erreur interne"


def extraction_download_record(*, extraction: Extraction, user, path: str = "", ip=None) -> None:
    """Journal a download: the platform's journal for everyone; a partner's access log gets a
    row per transmission the file holds, as for the pages it reads."""
    log(
        instance=extraction,
        action="harmonia.extraction_downloaded",
        user=user,
        data={**_journal(extraction), "dossiers extraits": extraction.dossier_count},
    )
    if extraction.partner_id:
        access_log_record_many(
            user=user,
            what=AccessLog.What.EXTRACTION,
            transmissions=Transmission.objects.filter(pk__in=extraction.included).only(
                "pk", "dossier_id"
            ),
            path=path,
            ip=ip,
        )


def extractions_expire(now: dt.datetime | None = None) -> int:
    """Delete the files of this platform's extractions past their date (kept as a record,
    marked expired). Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    for extraction in Extraction.objects.filter(
        status=Extraction.Status.DONE, expires_at__lte=now
    ).only("pk", "file"):
        if extraction.file:
            storage().delete(extraction.file)
        Extraction.objects.filter(pk=extraction.pk).update(
            status=Extraction.Status.EXPIRED, file=""
        )
        log(instance=extraction, action="harmonia.extraction_expired", user=None)
        expired += 1
    return expired
