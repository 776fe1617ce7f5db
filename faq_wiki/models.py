"""Each platform's content pages (Wagtail): home, FAQ, wiki, editors' section, manuals.

Every page needs a signed-in user of the platform (``wagtail_hooks.before_serve_page``); FAQ,
wiki and manual pages may further be restricted to some roles (``audiences``: empty means every
role; gestionnaires always see everything)."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from accounts.models import Role
from faq_wiki.blocks import ChapterBlock, NewsBlock, WikiStreamBlock
from faq_wiki.legal import LEGAL_KINDS
from forms_cms.selectors import (
    PlatformVersions,
    editor_versions,
    every_platform_editor_versions,
    version_file_kinds,
    versions_visible_to,
)
from tenants.models import Platform
from workflow.models import Campaign

AUDIENCES = [
    (Role.ORGANISME.value, "Organismes"),
    (Role.GESTIONNAIRE.value, "Gestionnaires"),
    (Role.PARTENAIRE.value, "Partenaires"),
    (Role.EDITEUR.value, "Éditeurs de logiciel"),
]
AUDIENCE_LABELS = dict(AUDIENCES)


class AudienceField(ArrayField):
    """Roles a page is meant for, edited as check boxes in the admin."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("base_field", models.CharField(max_length=20, choices=AUDIENCES))
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return forms.MultipleChoiceField(
            choices=AUDIENCES,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=self.verbose_name,
            help_text=self.help_text,
        )


def audience_field():
    return AudienceField(
        verbose_name="réservé à",
        help_text="Rôles autorisés à lire la page ; aucun coché : tous les utilisateurs de la "
        "plateforme. Les gestionnaires voient toujours tout.",
    )


def user_may_read(page, user) -> bool:
    """Whether a signed-in platform user may read ``page`` (its own audience restriction)."""
    if not user.is_authenticated:
        return False
    audiences = getattr(page, "audiences", None)
    return not audiences or user.role == Role.GESTIONNAIRE or user.role in audiences


class AudienceMixin(models.Model):
    audiences = audience_field()

    class Meta:
        abstract = True

    @property
    def audience_labels(self) -> list[str]:
        return [AUDIENCE_LABELS.get(a, a) for a in self.audiences]


class PlatformHomePage(Page):
    """Root page of a platform's Wagtail tree: banner, news, open campaigns, sections."""

    intro = RichTextField("introduction", blank=True)
    maintenance_banner = RichTextField(
        "bandeau de maintenance",
        blank=True,
        help_text="Affiché en haut de la page d'accueil des contenus lorsqu'il est rempli.",
    )
    news = StreamField([("news", NewsBlock())], blank=True, verbose_name="actualités")

    content_panels = [*Page.content_panels, "maintenance_banner", "intro", "news"]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "faq_wiki.FaqIndexPage",
        "faq_wiki.WikiPage",
        "faq_wiki.EditorsIndexPage",
        "faq_wiki.ManagerPage",
        "faq_wiki.ManualPage",
        "faq_wiki.LegalPage",
    ]
    max_count = 1

    class Meta:
        verbose_name = "accueil de la plateforme"
        verbose_name_plural = "accueils de la plateforme"

    def get_context(self, request, *args, **kwargs):

        context = super().get_context(request, *args, **kwargs)
        today = timezone.localdate()
        context["open_campaigns"] = Campaign.objects.open_on(today).prefetch_related(
            "document_types"
        )
        # the legal pages are linked from every page's footer, not listed as sections
        sections = self.get_children().live().not_type(LegalPage).specific()
        context["sections"] = [p for p in sections if user_may_read(p, request.user)]
        return context


class FaqIndexPage(Page):
    intro = RichTextField("introduction", blank=True)

    content_panels = [*Page.content_panels, "intro"]
    parent_page_types = ["faq_wiki.PlatformHomePage"]
    subpage_types = ["faq_wiki.FaqPage"]
    max_count = 1

    class Meta:
        verbose_name = "foire aux questions"
        verbose_name_plural = "foires aux questions"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        questions = FaqPage.objects.child_of(self).live()
        q = request.GET.get("q", "").strip()
        questions = questions.search(q) if q else questions.order_by("theme", "path")
        themes = defaultdict(list)
        for question in questions:
            if user_may_read(question, request.user):
                themes[question.theme or "Divers"].append(question)
        context["themes"] = sorted(themes.items()) if not q else list(themes.items())
        context["q"] = q
        return context


class FaqPage(AudienceMixin, Page):
    """One question (its title) and its answer."""

    answer = RichTextField("réponse")
    theme = models.CharField(
        "thème", max_length=100, help_text="Les questions sont regroupées par thème."
    )

    content_panels = [
        FieldPanel("title", heading="Question"),
        "answer",
        "theme",
        FieldPanel("audiences"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("answer"),
        index.SearchField("theme"),
    ]
    parent_page_types = ["faq_wiki.FaqIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "question de la FAQ"
        verbose_name_plural = "questions de la FAQ"

    def __str__(self) -> str:
        return self.title


class WikiPage(AudienceMixin, Page):
    intro = models.TextField("chapeau", blank=True)
    body = StreamField(WikiStreamBlock(), blank=True, verbose_name="contenu")

    content_panels = [*Page.content_panels, "intro", "body", FieldPanel("audiences")]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = [
        "faq_wiki.PlatformHomePage",
        "faq_wiki.WikiPage",
        "faq_wiki.EditorsIndexPage",
    ]
    subpage_types = ["faq_wiki.WikiPage"]

    class Meta:
        verbose_name = "page de wiki"
        verbose_name_plural = "pages de wiki"

    def __str__(self) -> str:
        return self.title

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        children = self.get_children().live().specific()
        context["children"] = [p for p in children if user_may_read(p, request.user)]
        return context


class EditorsIndexPage(Page):
    """The software editors' section: every published form version's files, listed
    automatically. On the ministry platform it lists every platform's versions (read in each
    platform's schema, files served by the ministry platform), so that one editor account
    there is enough; elsewhere, the platform's own."""

    intro = RichTextField("introduction", blank=True)

    content_panels = [*Page.content_panels, "intro"]
    parent_page_types = ["faq_wiki.PlatformHomePage"]
    subpage_types = ["faq_wiki.WikiPage"]
    max_count = 1

    class Meta:
        verbose_name = "espace des éditeurs"
        verbose_name_plural = "espaces des éditeurs"

    def get_context(self, request, *args, **kwargs):

        context = super().get_context(request, *args, **kwargs)
        platform = request.tenant
        if platform.kind == Platform.Kind.MINISTRY:
            groups = every_platform_editor_versions(request.user)
        else:
            groups = [
                PlatformVersions(platform.code, platform.short_name, editor_versions(request.user))
            ]
        context["groups"] = groups
        context["current_code"] = platform.code
        context["all_platforms"] = len(groups) > 1
        children = self.get_children().live().specific()
        context["children"] = [p for p in children if user_may_read(p, request.user)]
        return context


class ManagerPage(Page):
    """A platform manager's page: free text and its Excel supports (listed automatically)."""

    body = RichTextField("texte", blank=True)

    content_panels = [*Page.content_panels, "body"]
    parent_page_types = ["faq_wiki.PlatformHomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "page du gestionnaire"
        verbose_name_plural = "pages du gestionnaire"

    def get_context(self, request, *args, **kwargs):

        context = super().get_context(request, *args, **kwargs)
        kinds = version_file_kinds()
        groups = defaultdict(list)
        versions = versions_visible_to(request.user).order_by(
            "document_type__position", "-campaign__exercise", "-number"
        )
        for version in versions:
            if "source" in kinds.get(version.pk, ()):
                groups[version.document_type].append(version)
        context["groups"] = list(groups.items())
        return context


class ManualPage(AudienceMixin, Page):
    """A user manual: chapters, a table of contents, a printable view and a PDF."""

    class Audience(models.TextChoices):
        ORGANISMES = "organismes", "Organismes"
        MINISTERE = "ministere_federations", "Ministère et fédérations"
        PARTENAIRES = "partenaires", "Partenaires"

    reader = models.CharField(
        "manuel destiné aux", max_length=30, choices=Audience.choices, default=Audience.ORGANISMES
    )
    intro = RichTextField("introduction", blank=True)
    chapters = StreamField([("chapter", ChapterBlock())], blank=True, verbose_name="chapitres")

    content_panels = [
        *Page.content_panels,
        "reader",
        "intro",
        "chapters",
        FieldPanel("audiences"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("chapters"),
    ]
    parent_page_types = ["faq_wiki.PlatformHomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "manuel utilisateur"
        verbose_name_plural = "manuels utilisateur"

    def __str__(self) -> str:
        return self.title

    def toc(self) -> list[dict]:
        return [
            {"number": i, "anchor": f"chapitre-{i}", "heading": block.value["heading"]}
            for i, block in enumerate(self.chapters, start=1)
        ]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["toc"] = self.toc()
        context["numbered"] = [
            (i, f"chapitre-{i}", block.value) for i, block in enumerate(self.chapters, start=1)
        ]
        return context

    def route(self, request, path_components):
        if path_components == ["pdf"] and self.live:
            from wagtail.url_routing import RouteResult

            return RouteResult(self, kwargs={"pdf": True})
        return super().route(request, path_components)

    def serve(self, request, *args, pdf=False, **kwargs):
        if pdf:
            return self.serve_pdf(request)
        if request.GET.get("imprimer"):
            context = self.get_context(request)
            context["print_view"] = True
            return render(request, "faq_wiki/manual_page_print.html", context)
        return super().serve(request, *args, **kwargs)

    def pdf_bytes(self, request) -> bytes:
        """The manual as a PDF with a cover page; cached per published revision."""
        key = f"faq_wiki:manual-pdf:{self.pk}:{self.live_revision_id or 0}"
        content = cache.get(key)
        if content is None:
            from weasyprint import HTML

            context = self.get_context(request)
            context["generated_at"] = timezone.localtime()
            html = render(request, "faq_wiki/manual_pdf.html", context).content.decode()
            content = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
            cache.set(key, content, 24 * 3600)
        return content

    def serve_pdf(self, request):
        if not user_may_read(self, request.user):
            raise PermissionDenied
        response = HttpResponse(self.pdf_bytes(request), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{self.slug}.pdf"'
        return response


def _no_fetch(url, *args, **kwargs):
    """The PDF embeds nothing from outside (no network, no file access)."""
    raise ValueError(f"ressource externe refusée : {url}")


class LegalPage(Page):
    """One of the three pages every State site links from its footer (accessibility
    statement, legal notice, personal data), served at its fixed address (``legal:*`` URLs,
    readable without signing in) rather than under /contenus/."""

    kind = models.CharField(
        "nature",
        max_length=20,
        choices=[(kind.code, kind.title) for kind in LEGAL_KINDS],
        unique=True,
        help_text="Chaque page légale n'existe qu'une fois par plateforme.",
    )
    body = RichTextField(
        "texte",
        features=["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link"],
        help_text="Texte affiché à l'adresse fixe de la page (pied de chaque page).",
    )

    content_panels = [*Page.content_panels, "kind", "body"]
    parent_page_types = ["faq_wiki.PlatformHomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "page légale"
        verbose_name_plural = "pages légales"

    def __str__(self) -> str:
        return self.title
