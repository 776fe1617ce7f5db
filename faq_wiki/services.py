"""Writes of the content pages that are not the editors' own (those go through Wagtail)."""

from __future__ import annotations

from faq_wiki.legal import LEGAL_KINDS, legal_body
from faq_wiki.models import LegalPage, PlatformHomePage


def legal_pages_seed(*, platform) -> list[LegalPage]:
    """The legal pages missing on the current platform, created under its home page with the
    default text and published; those that exist (edited by a gestionnaire or not) are left
    as they are. Returns the pages created."""
    home = PlatformHomePage.objects.first()
    if home is None:
        return []
    existing = set(LegalPage.objects.values_list("kind", flat=True))
    taken = set(home.get_children().values_list("slug", flat=True))
    created = []
    for kind in LEGAL_KINDS:
        if kind.code in existing:
            continue
        slug = kind.slug if kind.slug not in taken else f"{kind.slug}-plateforme"
        page = LegalPage(
            title=kind.title, slug=slug, kind=kind.code, body=legal_body(kind.code, platform)
        )
        home.add_child(instance=page)
        page.save_revision().publish()
        created.append(page)
    return created
