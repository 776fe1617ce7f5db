"""The operator's space menu on the public host: each role sees the entries its views admit
(no link leads to a 403), the current page is marked, and nobody else has it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

MENU = re.compile(r'<nav[^>]*data-testid="operator-menu".*?</nav>', re.S)
ENTRY = re.compile(r'<a class="fr-nav__link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def menu_of(client, url: str) -> list[tuple[str, bool, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    found = MENU.search(response.content.decode())
    if found is None:
        return []
    return [(href, bool(current), label) for href, current, label in ENTRY.findall(found.group())]


@pytest.mark.parametrize("role", ["hotline", "maintenance", "cglls", "correspondant"])
def test_every_entry_of_the_menu_opens_for_its_role(client_for, demo_user, role):
    client = client_for("public", demo_user("public", role))
    entries = menu_of(client, "/operateur/")
    labels = [label for _, _, label in entries]
    if role == "correspondant":
        assert labels == ["Accueil", "Anomalies", "Synthèse mensuelle"]
    else:
        assert labels == [
            "Accueil",
            "Anomalies",
            "Synthèse mensuelle",
            "Correspondants",
            "Hotline",
            "Rapports d&#x27;activité",
            "Évolutions",
            "Intégration des formulaires",
            "Versions",
            "Maintenances",
            "Sécurité",  # staff manage the rules, CGLLS reads
            # the exit drills' reports: the operator's own staff only
            *(["Réversibilité"] if role != "cglls" else []),
        ]
    assert [label for _, current, label in entries if current] == ["Accueil"]
    for href, _, label in entries:
        # each entry's page answers, and marks itself as the current one
        assert [lab for _, current, lab in menu_of(client, href) if current] == [label]


def test_the_current_entry_covers_the_pages_under_it(client_for, demo_user):
    client = client_for("public", demo_user("public", "hotline"))
    entries = menu_of(client, "/operateur/hotline/rapport/")
    assert [label for _, current, label in entries if current] == ["Hotline"]


def test_nobody_else_has_the_operator_menu(client_for, demo_user):
    assert menu_of(client_for("public"), "/comptes/connexion/") == []
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    page = gestionnaire.get("/").content.decode()
    assert 'data-testid="operator-menu"' not in page and 'id="navigation-principale"' in page
