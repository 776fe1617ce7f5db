"""« Aide sur cette page »: which part of the help each main page points to.

Data, not code: ``HELP_TOPICS`` maps a URL name (``request.resolver_match.view_name``) to the
help pages that explain it, best first, each a page slug and, for a manual, the heading of a
chapter. The link goes to the first of them that exists, is published and that the user may
read, at that chapter; when none does, to the help search with the topic's words. The demo
content has every page and chapter named here (tests/faq_wiki/test_help.py).

The page's own link is ``faq_wiki:help_for?vue=<URL name>`` (``{% help_link %}``): the choice
is made when the link is followed, so that drawing a page costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from wagtail.models import Page

from faq_wiki.models import ManualPage, user_may_read

ORGANISMS = "manuel-organismes"
MANAGERS = "manuel-ministere-federations"
PARTNERS = "manuel-partenaires"
EDITORS = "informations-editeurs"


@dataclass(frozen=True)
class HelpTopic:
    search: str  # words for the help search when no page below may be read
    targets: tuple[tuple[str, str], ...]  # (page slug, manual chapter heading or "")


def topic(search: str, *targets: tuple[str, str]) -> HelpTopic:
    return HelpTopic(search, targets)


_SHEET = topic("saisie formulaire", (ORGANISMS, "Saisir dans la grille"))
_VERSIONS = topic(
    "support Excel formulaire",
    (MANAGERS, "Déposer les formulaires"),
    (EDITORS, ""),
)
_RULES = topic("partenaires", (MANAGERS, "Comptes, partenaires et échanges"))
_EXCHANGES = topic(
    "espace d'échange",
    (ORGANISMS, "PDF, partenaires et espace d'échange"),
    (MANAGERS, "Comptes, partenaires et échanges"),
)

HELP_TOPICS: dict[str, HelpTopic] = {
    "home": topic("plateforme", (ORGANISMS, "Se connecter"), (MANAGERS, ""), (PARTNERS, "")),
    "declarations:list": topic("dossiers", (ORGANISMS, "La liste de vos dossiers")),
    "declarations:dossier": _SHEET,
    "declarations:sheet": _SHEET,
    "declarations:verification": topic(
        "vérification contrôles", (ORGANISMS, "Vérifier, valider, transmettre")
    ),
    "declarations:xml": topic(
        "import XML", (ORGANISMS, "Importer ou exporter en XML"), (EDITORS, "")
    ),
    "declarations:sync": topic("tronc commun", (ORGANISMS, "Rapatrier le tronc commun")),
    "declarations:tokens": topic("API jetons", (EDITORS, "")),
    "workflow:campaign_list": topic("campagne", (MANAGERS, "Ouvrir une campagne")),
    "workflow:campaign_create": topic("campagne", (MANAGERS, "Ouvrir une campagne")),
    "workflow:workspace": topic("suivre les dossiers", (MANAGERS, "Suivre les dossiers")),
    "workflow:substeps": topic(
        "fiabilisation", (MANAGERS, "Fiabiliser, rendre la main, finaliser")
    ),
    "forms_cms:version_list": _VERSIONS,
    "forms_cms:version_detail": _VERSIONS,
    "forms_cms:version_upload": topic(
        "déposer support Excel", (MANAGERS, "Déposer les formulaires")
    ),
    "partners:list": topic("documents transmis", (PARTNERS, "Consulter les documents transmis")),
    "partners:detail": topic("documents transmis", (PARTNERS, "Consulter les documents transmis")),
    "partners:choices": topic(
        "partenaires destinataires", (ORGANISMS, "PDF, partenaires et espace d'échange")
    ),
    "partners:rules": _RULES,
    "partners:journal": topic("journal d'accès", (PARTNERS, "Traçabilité"), _RULES.targets[0]),
    "organisms:users": topic("comptes", (MANAGERS, "Comptes, partenaires et échanges")),
    "exchanges:list": _EXCHANGES,
    "exchanges:thread": _EXCHANGES,
}


def chapter_anchor(page, heading: str) -> str:
    """``#chapitre-N`` of the manual chapter titled ``heading`` ("" when it is not there)."""
    if not heading or not isinstance(page, ManualPage):
        return ""
    for entry in page.toc():
        if entry["heading"] == heading:
            return f"#{entry['anchor']}"
    return ""


def readable(page, user) -> bool:
    return all(user_may_read(p, user) for p in page.get_ancestors(inclusive=True).specific())


def help_url(view_name: str, user) -> str:
    """Where « Aide sur cette page » of ``view_name`` leads ``user``."""
    found = HELP_TOPICS.get(view_name)
    if found is None:
        return reverse("faq_wiki:search")
    pages = {
        page.slug: page
        for page in Page.objects.live()
        .filter(slug__in=[slug for slug, _ in found.targets])
        .specific()
    }
    for slug, heading in found.targets:
        page = pages.get(slug)
        if page is not None and readable(page, user):
            return page.url + chapter_anchor(page, heading)
    return f"{reverse('faq_wiki:search')}?{urlencode({'q': found.search})}"
