"""Absolute links for what leaves the site (e-mails): the one place that builds them.

A platform's address is its primary host name (``Domain``), with the scheme of the settings
(``HARMONIA_LINK_SCHEME``: https in production) and the port of the base domain when it carries
one (``HARMONIA_BASE_DOMAIN=localhost:8000``), as Zulip's ``Realm.url``. The request is never
read: a background job, a command and a view build the same link, and a link never points at
whichever host a request happened to come through.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from tenants.models import Platform

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class NoPlatformHost(LookupError):
    """The platform has no primary host name yet (``platforms_sync`` not run)."""


def _current_platform() -> Platform:
    # schema_context() sets a stand-in tenant: read the platform row of that schema then
    tenant = connection.tenant
    if isinstance(tenant, Platform):
        return tenant
    return Platform.objects.get(schema_name=connection.schema_name)


def absolute_url(path: str, *, platform: Platform | None = None) -> str:
    """``path`` (from ``reverse()`` or a page's URL) on ``platform``'s host.

    Without ``platform``, the platform of the current schema: a platform's e-mails link to
    that platform, and the operator's (public schema) to the public host."""
    if not path.startswith("/"):
        raise ValueError(f"absolute_url() takes a path starting with '/', not {path!r}")
    platform = platform or _current_platform()
    domain = platform.get_primary_domain()
    if domain is None:
        raise NoPlatformHost(f"Platform {platform.schema_name!r} has no primary host name.")
    scheme = settings.HARMONIA_LINK_SCHEME
    port = settings.HARMONIA_BASE_PORT
    netloc = domain.domain if port in ("", _DEFAULT_PORTS[scheme]) else f"{domain.domain}:{port}"
    return f"{scheme}://{netloc}{path}"
