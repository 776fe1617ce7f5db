"""Security supervision (CCTP 3.7.3 c): the operator's alert rules over the security events
every platform records (``tenants.SecurityEvent``, written by ``tenants.security_events``).

``security_alerts_check`` runs every minute (``operations.tasks``): for each active rule it
counts the rule's events in the window that ends now and, when the count reaches the
threshold, sends ONE e-mail to the rule's recipients and stamps the rule; the next e-mail of
that rule can only go once a whole window has passed since, counting only events after the
last one (a burst that goes on makes one e-mail per window, never one per event). The stamp
is taken with a conditional UPDATE, so two workers checking at once send one e-mail.

``partner_reads_check`` asks each platform's ``partners`` app for its partner users reading
above their usual rate (every 15 minutes), which records them as events like any other.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from operations.models import SECURITY_PLATFORM_CHOICES, SecurityAlert, SecurityAlertRule
from partners.services import partner_reads_unusual_record
from tenants.links import NoPlatformHost, absolute_url
from tenants.models import Platform, SecurityEvent
from tenants.tasks import queue_email

RULE_FIELDS = (
    "kind",
    "platform",
    "threshold",
    "window_minutes",
    "notify_cglls",
    "notify_maintenance",
    "emails",
    "active",
)
LAST_EVENTS_IN_MAIL = 10


@transaction.atomic
def security_rule_save(rule: SecurityAlertRule | None = None, **fields) -> SecurityAlertRule:
    """Create or change a rule; ``ValidationError`` (with the reason, in French) for a rule
    that would alert nobody or whose threshold or window is out of bounds. Nothing stored
    then."""
    rule = rule or SecurityAlertRule()
    for name in RULE_FIELDS:
        if name in fields:
            setattr(rule, name, fields[name])
    rule.full_clean()
    rule.save()
    return rule


def security_rule_delete(rule: SecurityAlertRule) -> None:
    rule.delete()


def rule_events(rule: SecurityAlertRule, start: dt.datetime, end: dt.datetime):
    """The rule's events in the window ``]start, end]``."""
    events = SecurityEvent.objects.filter(
        kind=rule.kind, occurred_at__gt=start, occurred_at__lte=end
    )
    return events.filter(platform=rule.platform) if rule.platform else events


def security_alerts_check(*, now: dt.datetime | None = None) -> list[SecurityAlert]:
    """Send the alerts due now; the alerts sent."""
    now = now or timezone.now()
    sent = []
    for rule in SecurityAlertRule.objects.filter(active=True).order_by("pk"):
        start = now - dt.timedelta(minutes=rule.window_minutes)
        if rule.last_alert_at is not None and rule.last_alert_at > start:
            continue  # one e-mail per window: this rule already alerted within it
        events = rule_events(rule, start, now)
        count = events.count()
        if count < rule.threshold:
            continue
        with transaction.atomic():
            claimed = (
                SecurityAlertRule.objects.filter(pk=rule.pk)
                .filter(Q(last_alert_at__isnull=True) | Q(last_alert_at__lte=start))
                .update(last_alert_at=now)
            )
            if not claimed:  # another worker sent it
                continue
            recipients = rule.recipients()
            alert = SecurityAlert.objects.create(
                rule=rule, sent_at=now, event_count=count, recipients=recipients
            )
            if recipients:
                _alert_mail(rule, alert, events, start, now)
        sent.append(alert)
    return sent


def _alert_mail(rule, alert, events, start, now) -> None:
    by_platform = events.values_list("platform").annotate(n=Count("id")).order_by("-n", "platform")
    labels = dict(SECURITY_PLATFORM_CHOICES)
    query = f"?type={rule.kind}&du={timezone.localtime(start):%Y-%m-%dT%H:%M}"
    if rule.platform:
        query += f"&plateforme={rule.platform}"
    try:
        with schema_context("public"):
            path = reverse("operations:security_events", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
            link = absolute_url(path + query)
    except NoPlatformHost:
        link = ""
    context = {
        "rule": rule,
        "alert": alert,
        "start": timezone.localtime(start),
        "end": timezone.localtime(now),
        "by_platform": [(labels.get(code, code or "—"), n) for code, n in by_platform],
        "last_events": list(events.order_by("-occurred_at", "-pk")[:LAST_EVENTS_IN_MAIL]),
        "link": link,
        "next_at": timezone.localtime(now + dt.timedelta(minutes=rule.window_minutes)),
    }
    queue_email(
        subject=render_to_string("operations/email/security_alert_subject.txt", context).strip(),
        body=render_to_string("operations/email/security_alert_body.txt", context),
        to=alert.recipients,
    )


def partner_reads_check(*, now: dt.datetime | None = None) -> int:
    """Every platform's partner users reading above their usual rate, recorded as events;
    how many were recorded."""
    now = now or timezone.now()
    recorded = 0
    for platform in Platform.objects.declaration_platforms():
        with schema_context(platform.schema_name):
            recorded += len(partner_reads_unusual_record(now=now))
    return recorded
