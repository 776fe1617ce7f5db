"""The FAQ/wiki's receivers (connected in ``FaqWikiConfig.ready``)."""

from __future__ import annotations

from wagtail.models import Page, Site

from faq_wiki.models import PlatformHomePage
from faq_wiki.services import legal_pages_seed


def platform_home_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the platform's home page, titled after the
    platform, as the root of its default Wagtail site on its host name."""
    title = spec.name if spec else "Harmonia"
    root = Page.get_first_root_node()
    home = PlatformHomePage.objects.first()
    if home is None:
        home = root.add_child(instance=PlatformHomePage(title=title, slug="accueil"))
    elif home.title != title:
        home.title = title
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    host = platform.get_primary_domain().domain if spec else "localhost"
    site.hostname, site.port, site.root_page, site.site_name = host, 80, home, title
    site.save()
    # Wagtail's own placeholder page is replaced by the platform home.
    Page.objects.filter(depth=2).exclude(pk=home.pk).delete()


def legal_pages_create(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the three legal pages of a new platform, with
    its default texts (publisher, host). Not in the template schema, whose texts could not
    name the platform a clone of it becomes."""
    if spec is not None:
        legal_pages_seed(platform=platform)
