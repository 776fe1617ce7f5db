"""Reads of the operations app: which anomalies a person of the operator's space may see; the
security events of a platform month by month (the activity report's summary)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from operations.hotline import MONTHS_FR, month_bounds
from operations.models import Anomaly, Correspondent
from tenants.models import SecurityEvent


def followed_platforms(user) -> list[str] | None:
    """The platform codes whose anomalies ``user`` may read; ``None`` for all of them.

    Operator staff and CGLLS read every anomaly. A correspondent reads those of the platforms
    ticked on their record (none ticked: every platform, as for the e-mails); a correspondent
    account without a record reads nothing.
    """
    if user.role != Role.CORRESPONDANT:
        return None
    record = Correspondent.objects.filter(user=user).only("platforms").first()
    if record is None:
        return []
    return list(record.platforms) or None


def anomalies_visible_to(user) -> QuerySet[Anomaly]:
    platforms = followed_platforms(user)
    if platforms is None:
        return Anomaly.objects.all()
    return Anomaly.objects.filter(platforms__overlap=platforms)


@dataclass
class SecurityMonths:
    """A platform's security events per kind: the previous calendar month and the current one
    up to now (the monthly report is made on the 1st: the month before is the one it covers)."""

    previous_label: str
    current_label: str
    lines: list[tuple[str, int, int]]  # (kind's label, previous month, current month)

    @property
    def total_previous(self) -> int:
        return sum(line[1] for line in self.lines)

    @property
    def total_current(self) -> int:
        return sum(line[2] for line in self.lines)


def security_months(platform: str, now: dt.datetime) -> SecurityMonths:
    """Every kind, with its counts (zeros included), in one query."""
    now = timezone.localtime(now)
    start, _ = month_bounds(now.year, now.month)
    before = start - dt.timedelta(days=1)
    previous_start, _ = month_bounds(before.year, before.month)
    counts = (
        SecurityEvent.objects.filter(
            platform=platform, occurred_at__gte=previous_start, occurred_at__lte=now
        )
        .values("kind")
        .annotate(
            previous=Count("id", filter=Q(occurred_at__lt=start)),
            current=Count("id", filter=Q(occurred_at__gte=start)),
        )
        .order_by()
    )
    found = {row["kind"]: (row["previous"], row["current"]) for row in counts}
    return SecurityMonths(
        previous_label=f"{MONTHS_FR[before.month - 1]} {before.year}",
        current_label=f"{MONTHS_FR[now.month - 1]} {now.year} (au {now:%d/%m})",
        lines=[(label, *found.get(kind, (0, 0))) for kind, label in SecurityEvent.Kind.choices],
    )
