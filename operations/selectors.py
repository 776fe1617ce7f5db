"""Reads of the operations app: which anomalies a person of the operator's space may see."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role
from operations.models import Anomaly, Correspondent


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
