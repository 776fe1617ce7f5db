"""Correction deadlines, counted from the acknowledgement (pure functions, no database).

critical 1 h, major 24 h, minor: 80 % within 7 days (the target) and all within 14 days.
An anomaly is overdue once ``now`` is strictly past its deadline while still unresolved
(not yet fixed in production nor closed); exactly at the deadline it is still on time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEADLINES = {
    "critical": timedelta(hours=1),
    "major": timedelta(hours=24),
    "minor": timedelta(days=14),
}
# Minor anomalies: 80 % of them should be fixed within this target.
MINOR_TARGET = timedelta(days=7)
MINOR_TARGET_SHARE = 0.8


def anomaly_deadline(severity: str, acknowledged_at: datetime | None) -> datetime | None:
    """The time by which an anomaly must be fixed; None before it is acknowledged."""
    if acknowledged_at is None:
        return None
    return acknowledged_at + DEADLINES[severity]


def anomaly_target(severity: str, acknowledged_at: datetime | None) -> datetime | None:
    """The target time (7 days for a minor anomaly; the deadline itself otherwise)."""
    if acknowledged_at is None:
        return None
    if severity == "minor":
        return acknowledged_at + MINOR_TARGET
    return anomaly_deadline(severity, acknowledged_at)


def is_overdue(anomaly, now: datetime) -> bool:
    deadline = anomaly_deadline(anomaly.severity, anomaly.acknowledged_at)
    return deadline is not None and not anomaly.is_resolved and now > deadline


def is_past_target(anomaly, now: datetime) -> bool:
    target = anomaly_target(anomaly.severity, anomaly.acknowledged_at)
    return target is not None and not anomaly.is_resolved and now > target
