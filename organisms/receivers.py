"""The organisms' receivers (connected in ``OrganismsConfig.ready``)."""

from __future__ import annotations

from tenants.services import gestionnaires_grant


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the administrative journal (Wagtail's
    site-history report) shows gestionnaires only the entries about object types they may
    read: read rights on the journalled organisms and registry imports."""
    gestionnaires_grant("organisms", ["view_organism", "view_registryimport"])
