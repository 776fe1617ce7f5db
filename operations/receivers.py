"""The operator's space's receivers (connected in ``OperationsConfig.ready``)."""

from __future__ import annotations

from operations.models import Correspondent


def demo_correspondent(*, platform, users, **kwargs) -> None:
    """``organisms.signals.demo_loaded`` on the public host: the correspondent CGLLS named for
    the ministry platform, with access to the tracker (the demo ``correspondant`` account)."""
    if platform is not None:
        return
    user = users["correspondant"]
    Correspondent.objects.get_or_create(
        email=user.email,
        defaults={"name": user.get_full_name(), "platforms": ["dhup"], "user": user},
    )
