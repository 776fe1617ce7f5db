from wagtail.fields import RichTextField
from wagtail.models import Page


class PlatformHomePage(Page):
    """Root page of a platform's Wagtail tree; FAQ, wiki and manuals will live beneath it."""

    intro = RichTextField("introduction", blank=True)

    content_panels = [*Page.content_panels, "intro"]
    max_count = 1

    class Meta:
        verbose_name = "accueil de la plateforme"
