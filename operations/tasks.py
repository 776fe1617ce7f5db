"""Scheduled jobs of the operator's space. Discovered by procrastinate (``tasks`` modules).

The monthly activity reports are made on the 1st of each month at 06:00 (UTC, as procrastinate
reads cron expressions): every worker runs procrastinate's periodic deferrer, which queues one
job per scheduled time however many workers there are (``procrastinate_periodic_defers``);
the job itself skips a platform that already has this month's automatic report.

The security alerts are checked every minute and the partners' reads every 15 minutes
(``operations.services_security``).
"""

from __future__ import annotations

from django.db import connection
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from operations.services_activity import monthly_activity_reports_produce
from operations.services_security import partner_reads_check, security_alerts_check

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


# --- security supervision (operations.services_security) --------------------------------------

SECURITY_ALERTS_CRON = "* * * * *"
SECURITY_ALERTS_TASK = "operations.security_alerts"
PARTNER_READS_CRON = "*/15 * * * *"
PARTNER_READS_TASK = "operations.partner_reads"


def _in_public(produce):
    connection.set_schema_to_public()  # rules, events and alerts live in public
    try:
        return produce()
    finally:
        if not connection.in_atomic_block:
            connection.close()


@app.periodic(cron=SECURITY_ALERTS_CRON)
@app.task(name=SECURITY_ALERTS_TASK, queueing_lock=SECURITY_ALERTS_TASK)
def security_alerts(timestamp: int) -> list[int]:
    """Send the security alerts due (every minute); the ids of the alerts sent."""
    return _in_public(lambda: [alert.pk for alert in security_alerts_check()])


@app.periodic(cron=PARTNER_READS_CRON)
@app.task(name=PARTNER_READS_TASK, queueing_lock=PARTNER_READS_TASK)
def partner_reads(timestamp: int) -> int:
    """Record the partner users reading above their usual rate (every 15 minutes)."""
    return _in_public(partner_reads_check)
