"""Scheduled jobs of the operator's space. Discovered by procrastinate (``tasks`` modules).

The monthly activity reports are made on the 1st of each month at 06:00 (UTC, as procrastinate
reads cron expressions): every worker runs procrastinate's periodic deferrer, which queues one
job per scheduled time however many workers there are (``procrastinate_periodic_defers``);
the job itself skips a platform that already has this month's automatic report.

The security alerts are checked every minute and the partners' reads every 15 minutes
(``operations.services_security``).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from operations import workload
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


# The form-integration workload report goes to the project committee when each period ends:
# on the 1st (the month before, or its second half in May–July) and, in May–July, on the 16th
# (the first half). 07:00 UTC.
WORKLOAD_CRON = "0 7 1,16 * *"
WORKLOAD_TASK = "operations.workload_report"


def period_to_send(today: dt.date) -> workload.Period | None:
    """The period that ended yesterday, if one did."""
    if today.day == 1 or (today.day == 16 and today.month in workload.HALF_MONTHS):
        return workload.period_containing(today - dt.timedelta(days=1))
    return None


def send_workload_report_of(today: dt.date) -> int:
    period = period_to_send(today)
    if period is None or not workload.committee_configured():
        return 0
    workload.workload_report_send(period)
    return 1


@app.periodic(cron=WORKLOAD_CRON)
@app.task(name=WORKLOAD_TASK, retry=RetryStrategy(max_attempts=3, wait=600))
def workload_report(timestamp: int) -> int:
    """E-mail the workload report of the period just ended to the project committee (nothing
    when no committee address is configured). Returns how many reports were sent."""
    connection.set_schema_to_public()
    try:
        return send_workload_report_of(timezone.localdate())
    finally:
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
