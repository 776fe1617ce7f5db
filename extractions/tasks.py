"""The extraction jobs. Discovered by procrastinate (``tasks`` modules).

``extractions.build`` makes one file (queued when asked for); ``extractions.expire`` runs every
hour on every declaration platform and deletes the files past their date (idempotent: several
workers or a missed hour change nothing)."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from extractions.services import extraction_make, extractions_expire
from tenants.jobs import tenant_task
from tenants.models import Platform

EXPIRE_CRON = "23 * * * *"
EXPIRE_TASK = "extractions.expire"


@tenant_task(name="extractions.build")
def extraction_build(*, extraction_id: int) -> None:
    extraction_make(extraction_id)


def extractions_expire_everywhere() -> dict[str, int]:
    """{platform code: extractions expired} over every declaration platform."""
    done = {}
    for platform in Platform.objects.declaration_platforms():
        with schema_context(platform.schema_name):
            done[platform.code] = extractions_expire()
    return done


@app.periodic(cron=EXPIRE_CRON)
@app.task(name=EXPIRE_TASK, retry=RetryStrategy(max_attempts=3, wait=600))
def extractions_expire_job(timestamp: int) -> dict[str, int]:
    """``timestamp``: the scheduled time, given by procrastinate."""
    connection.set_schema_to_public()
    try:
        return extractions_expire_everywhere()
    finally:
        if not connection.in_atomic_block:
            connection.close()
