"""The CMS (Wagtail's admin) speaks French to the gestionnaires: no English in the visible
text of the screens they use."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django_tenants.utils import schema_context

from faq_wiki.models import LegalPage, PlatformHomePage

pytestmark = pytest.mark.django_db

# English words a person would notice ("Pages", "Type", "Documents" are French too: not listed)
ENGLISH = (
    "Dashboard",
    "Save draft",
    "Publish",
    "Moderators approval",
    "Moderators",
    "Editors",
    "Search",
    "Root",
    "Snippets",
    "Settings",
    "Reports",
    "Help",
    "Add child page",
    "Edit",
    "Delete",
    "Live",
    "Draft",
    "Status",
    "Title",
    "Updated",
    "Owner",
    "Collection",
    "Upload",
    "Add a document",
    "Preview",
    "History",
    "Content",
    "Promote",
    "Workflow",
    "Sort",
    "Filter",
    "Account",
    "Log out",
    "Welcome",
)


class VisibleText(HTMLParser):
    """Text a person reads: element text and the attributes read aloud or shown."""

    SKIP = {"script", "style", "template", "noscript"}
    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "value")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        attributes = dict(attrs)
        if attributes.get("type") == "hidden":
            return
        for name in self.SHOWN_ATTRIBUTES:
            if attributes.get(name) and not (name == "value" and tag != "button"):
                self.parts.append(attributes[name])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def english_in(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    return sorted(
        {word for word in ENGLISH if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)}
    )


def admin_screens(code: str) -> dict[str, str]:
    with schema_context(code):
        home = PlatformHomePage.objects.get()
        legal = LegalPage.objects.get(kind="accessibility")
    return {
        "dashboard": "/cms/",
        "explorer": f"/cms/pages/{home.pk}/",
        "edit home": f"/cms/pages/{home.pk}/edit/",
        "edit legal page": f"/cms/pages/{legal.pk}/edit/",
        "add legal page": f"/cms/pages/add/faq_wiki/legalpage/{home.pk}/",
        "history": f"/cms/pages/{legal.pk}/history/",
        "search": "/cms/pages/search/?q=accessibilite",
        "site history": "/cms/reports/site-history/",
    }


def test_no_english_on_the_gestionnaires_screens(client_for, demo_user):
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    found = {}
    for name, url in admin_screens("oph").items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        words = english_in(response.content.decode())
        if words:
            found[name] = words
    assert found == {}


def test_the_corrections_to_wagtails_french_are_compiled():
    """site/locale's .mo is the compiled .po: each correction is what Django translates."""
    from pathlib import Path

    from django.utils import translation

    po = Path(__file__).resolve().parents[2] / "site/locale/fr/LC_MESSAGES/django.po"
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po.read_text(), flags=re.M)
    assert pairs
    with translation.override("fr"):
        for msgid, msgstr in pairs:
            assert translation.gettext(msgid) == msgstr
