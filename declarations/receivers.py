"""The declarations' receivers (connected in ``DeclarationsConfig.ready``)."""

from __future__ import annotations

from tenants.services import gestionnaires_grant


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the administrative journal (Wagtail's
    site-history report) shows gestionnaires only the entries about object types they may
    read: read right on the journalled API tokens."""
    gestionnaires_grant("declarations", ["view_apitoken"])
