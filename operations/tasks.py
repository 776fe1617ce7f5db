"""Scheduled jobs of the operator's space. Discovered by procrastinate (``tasks`` modules).

The monthly activity reports are made on the 1st of each month at 06:00 (UTC, as procrastinate
reads cron expressions): every worker runs procrastinate's periodic deferrer, which queues one
job per scheduled time however many workers there are (``procrastinate_periodic_defers``);
the job itself skips a platform that already has this month's automatic report.
"""

from __future__ import annotations

from django.db import connection
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from operations.services_activity import monthly_activity_reports_produce

MONTHLY_ACTIVITY_CRON = "0 6 1 * *"
MONTHLY_ACTIVITY_TASK = "operations.monthly_activity_reports"


@app.periodic(cron=MONTHLY_ACTIVITY_CRON)
@app.task(name=MONTHLY_ACTIVITY_TASK, retry=RetryStrategy(max_attempts=3, wait=600))
def monthly_activity_reports(timestamp: int) -> list[int]:
    """Produce and store the automatic activity report of every platform (``produced_by``
    empty, shown as "automatique"). ``timestamp``: the scheduled time, given by procrastinate.
    Returns the new reports' ids (none when this month's were already made)."""
    connection.set_schema_to_public()  # reports live in public; figures switch schemas
    try:
        return [report.pk for report in monthly_activity_reports_produce()]
    finally:
        # worker threads each hold a Django connection: close it rather than leave it to the
        # garbage collector (inside a transaction, as when a test calls the job, keep it)
        if not connection.in_atomic_block:
            connection.close()
