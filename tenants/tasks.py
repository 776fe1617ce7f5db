"""Jobs that every platform uses. Discovered by procrastinate (``tasks`` modules)."""

from __future__ import annotations

import json
import logging

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from procrastinate import sql
from procrastinate.contrib.django import app
from procrastinate.jobs import Status

from tenants.jobs import tenant_task
from tenants.signals import jobs_stalled

logger = logging.getLogger(__name__)


@tenant_task(name="tenants.send_email", retry=3)
def send_email(
    *, subject: str, body: str, to: list[str], html: str = "", from_email: str | None = None
) -> None:
    """Send one e-mail through Django's configured backend (SMTP, file, console…)."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, from_email=from_email)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def queue_email(
    *, subject: str, body: str, to: list[str], html: str = "", from_email: str | None = None
) -> int:
    """Queue an e-mail; a worker sends it. Returns the job id."""
    return send_email.defer(subject=subject, body=body, to=to, html=html, from_email=from_email)


# --- jobs left behind by a worker that died ---------------------------------------------------

STALLED_JOBS_CRON = "*/5 * * * *"
# a worker beats every 10 s (procrastinate's default); two minutes of silence is a dead one
STALLED_AFTER_S = 120
# a job that took its worker down this many times is failed rather than run again
STALLED_MAX_ATTEMPTS = 3


def _arguments(args) -> dict:
    """A job's arguments as the connector gives them (JSON text or already a dict)."""
    return json.loads(args) if isinstance(args, str | bytes) else dict(args or {})


@app.periodic(cron=STALLED_JOBS_CRON)
@app.task(name="tenants.retry_stalled_jobs", queueing_lock="tenants.retry_stalled_jobs")
def retry_stalled_jobs(timestamp: int) -> dict[str, list[int]]:
    """Put back in the queue the jobs a dead worker was running (killed, out of memory, a
    host restarted): without it they stay « doing » for ever and a page waits on them (a
    PDF « en préparation », a second opinion « en cours »). Procrastinate's recipe: the
    jobs of workers without a recent heartbeat. A job already tried STALLED_MAX_ATTEMPTS
    times is failed instead, so that one poisonous job cannot take the workers down in a
    loop."""
    connector = app.connector.get_sync_connector()
    rows = connector.execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"],
        queue=None,
        task_name=None,
        seconds_since_heartbeat=STALLED_AFTER_S,
    )
    done: dict[str, list[int]] = {"retried": [], "failed": []}
    told: dict[str, list[dict]] = {"retried": [], "failed": []}
    for row in rows:
        if row["task_name"] == "tenants.retry_stalled_jobs":
            continue  # this very job, or one of its own kind
        if row["attempts"] + 1 >= STALLED_MAX_ATTEMPTS:
            connector.execute_query(
                query=sql.queries["finish_job"],
                job_id=row["id"],
                status=Status.FAILED.value,
                delete_job=False,
            )
            outcome = "failed"
        else:
            app.job_manager.retry_job_by_id(job_id=row["id"], retry_at=timezone.now())
            outcome = "retried"
        done[outcome].append(row["id"])
        told[outcome].append(
            {
                "id": row["id"],
                "task_name": row["task_name"],
                "args": _arguments(row["args"]),
                "attempts": row["attempts"] + 1,
            }
        )
    if done["retried"] or done["failed"]:
        logger.warning("stalled jobs: %s", done)
        jobs_stalled.send(sender=retry_stalled_jobs, **told)
    return done
