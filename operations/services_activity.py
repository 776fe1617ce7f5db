"""Producing and storing monthly activity reports (public schema).

:func:`activity_report_produce` is the one write path: the operator's screen calls it with the
signed-in user, the scheduled job of the 1st of each month (``operations.tasks``) with
``by=None`` ("automatique"). :func:`monthly_activity_reports_produce` is what that job does.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from operations import activity
from operations.hotline import month_bounds
from operations.models import ActivityReport
from tenants.models import Platform
from tenants.platforms import PLATFORMS
from workflow.models import Campaign


def activity_report_produce(*, platform: str, exercise: int, by=None) -> ActivityReport:
    """Count the figures of ``platform`` for ``exercise``, lay them out as PDF and XLSX and
    store the report. ``by``: the user who asked, or ``None`` for the scheduled run."""
    figures = activity.activity_figures(platform, exercise)
    return ActivityReport.objects.create(
        platform=figures.platform,
        exercise=figures.exercise,
        pdf=activity.report_pdf(figures),
        xlsx=activity.report_xlsx(figures),
        produced_by=by,
    )


def current_exercise(platform: str, day: dt.date | None = None) -> int | None:
    """The exercise the platform is working on: that of its most recently opened campaign
    open on ``day`` (today by default), else of its most recently opened campaign at all
    (fiabilisation goes on after the deadline); ``None`` when it has no campaign."""

    day = day or timezone.localdate()
    order = ("-opening_date", "-exercise", "-pk")
    with schema_context(platform):
        campaign = (
            Campaign.objects.open_on(day).order_by(*order).first()
            or Campaign.objects.order_by(*order).first()
        )
    return campaign.exercise if campaign else None


def default_exercise(day: dt.date | None = None) -> int:
    """The exercise an on-demand report is for unless told otherwise: that of the campaign
    under way on the first installed platform that has one (platforms collect the same
    exercise), else the last calendar year — never simply this calendar year, which is the
    exercise of next year's campaign."""
    day = day or timezone.localdate()
    installed = set(Platform.objects.declaration_platforms().values_list("code", flat=True))
    for spec in PLATFORMS:
        if spec.code in installed and (exercise := current_exercise(spec.code, day)):
            return exercise
    return day.year - 1


def monthly_activity_reports_produce() -> list[ActivityReport]:
    """For each platform with a campaign, produce and store this month's automatic report for
    its current exercise. A platform that already has an automatic report produced this month
    is skipped: running again the same month adds nothing."""

    now = timezone.now()
    local = timezone.localtime(now)
    start, end = month_bounds(local.year, local.month)
    installed = set(Platform.objects.declaration_platforms().values_list("code", flat=True))
    produced = []
    for spec in PLATFORMS:
        if spec.code not in installed:
            continue
        exercise = current_exercise(spec.code, timezone.localtime(now).date())
        if exercise is None:
            continue
        with transaction.atomic():
            # two runs at once (a manual defer beside the scheduled one) wait for each other
            # here, and the second one then sees the first one's report
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    [f"operations.monthly_activity_report:{spec.code}"],
                )
            already = ActivityReport.objects.filter(
                platform=spec.code,
                produced_by__isnull=True,
                produced_at__gte=start,
                produced_at__lt=end,
            ).exists()
            if not already:
                produced.append(
                    activity_report_produce(platform=spec.code, exercise=exercise, by=None)
                )
    return produced
