"""The three pages every State site links from its footer: « Accessibilité », « Mentions
légales », « Données personnelles».

Each platform edits them in its CMS (``LegalPage``, one per kind, seeded on a new platform and
by the demo content); until one is published, the fixed URL shows the default text
(``templates/legal/<kind>_body.html``), which is also the first content of the seeded page. The
public host has no CMS: it always shows the default text. The texts state the platform's real
rules (session, lock-out, retention) read from the settings and the retention plan, so that
they do not drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from workflow.services.retention import KEPT_EXERCISES

MINISTRY_PUBLISHER = (
    "Ministère chargé du logement — Direction de l'habitat, de l'urbanisme et des paysages "
    "(DHUP), avec la Caisse de garantie du logement locatif social (CGLLS)"
)
TO_COMPLETE = "[à compléter]"


@dataclass(frozen=True)
class LegalKind:
    code: str
    title: str
    slug: str  # the page's slug in the CMS and its fixed address on every host
    url_name: str

    @property
    def template(self) -> str:
        return f"legal/{self.code}_body.html"


LEGAL_KINDS: tuple[LegalKind, ...] = (
    LegalKind("accessibility", "Déclaration d'accessibilité", "accessibilite", "accessibility"),
    LegalKind("legal_notice", "Mentions légales", "mentions-legales", "legal_notice"),
    LegalKind("personal_data", "Données personnelles", "donnees-personnelles", "personal_data"),
)
LEGAL_KIND = {kind.code: kind for kind in LEGAL_KINDS}


def publisher(platform) -> str:
    """Who publishes the platform: the ministry (with CGLLS) for its own platform and the
    public host, the federation for the others."""
    if platform is not None and getattr(platform, "kind", "") == "federation":
        return platform.short_name
    return MINISTRY_PUBLISHER


def legal_context(platform) -> dict:
    """What the default texts say about ``platform`` (a ``tenants.Platform`` or None)."""
    is_platform = platform is not None and platform.kind in ("ministry", "federation")
    host = ""
    if is_platform:
        domain = platform.domains.filter(is_primary=True).first()
        host = domain.domain if domain else ""
    return {
        "platform": platform,
        "is_platform": is_platform,
        "is_federation": is_platform and platform.kind == "federation",
        "site_name": platform.name if is_platform else "Harmonia — hôte public et espace opérateur",
        "host": host,
        "publisher": publisher(platform),
        "contact_email": getattr(settings, "HARMONIA_CONTACT_EMAIL", ""),
        "to_complete": TO_COMPLETE,
        "kept_exercises": KEPT_EXERCISES,
        "session_minutes": settings.SESSION_COOKIE_AGE // 60,
        "reset_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }


def legal_body(kind: str, platform) -> str:
    """The default text of ``kind`` for ``platform``: HTML the CMS's rich text editor keeps
    (headings, paragraphs, lists, links)."""
    return render_to_string(LEGAL_KIND[kind].template, legal_context(platform)).strip()
