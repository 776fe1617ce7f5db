"""The Content-Security-Policy: on every page, and no page relies on what it forbids (inline
scripts and styles, style attributes, event handler attributes)."""

from __future__ import annotations

import re

import pytest

from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
FORBIDDEN = {
    "inline script": INLINE_SCRIPT,
    "style element": re.compile(r"<style\b"),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*="),
    "handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*="),
}


def directives(response) -> dict[str, list[str]]:
    policy = response.get("Content-Security-Policy", "")
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";")) if parts}


def strict_policy_problems(response, url: str) -> list[str]:
    if response.status_code != 200:
        return [f"{url}: status {response.status_code}"]
    policy = directives(response)
    if not (
        policy.get("script-src") == ["'self'"]
        and policy.get("style-src") == ["'self'"]
        and policy.get("frame-ancestors") == ["'none'"]
    ):
        return [f"{url}: policy {policy!r}"]
    body = response.content.decode()
    problems = []
    for what, pattern in FORBIDDEN.items():
        for found in pattern.finditer(body):
            problems.append(f"{url}: {what}: {body[found.start() : found.start() + 120]}")
    return problems


def test_each_role_s_main_pages_meet_the_policy(version, declarant, client_for, demo_user):  # noqa: F811
    dossier = open_dossier(declarant)
    pages = {
        ("dhup", None): [
            "/comptes/connexion/",
            "/comptes/mot-de-passe/oubli/",
            "/mentions-legales/",
        ],
        ("dhup", "organisme"): [
            "/",
            "/declarations/",
            f"/declarations/dossiers/{dossier.pk}/feuilles/0/",
            f"/declarations/dossiers/{dossier.pk}/feuilles/1/",
            f"/declarations/dossiers/{dossier.pk}/verification/",
            f"/declarations/dossiers/{dossier.pk}/xml/",
            f"/declarations/dossiers/{dossier.pk}/historique/",
            f"/echanges/dossiers/{dossier.pk}/",
            "/aide/recherche/?q=dossier",
        ],
        ("dhup", "gestionnaire"): [
            "/",
            "/organismes/",
            "/campagnes/",
            "/formulaires/",
            "/declarations/",
            "/partenaires/gestion/",
            "/extractions/",
            "/abonnements/",
            "/echanges/",
        ],
        ("dhup", "partenaire-cdc"): ["/", "/partenaires/"],
        ("dhup", "editeur"): [
            "/",
            "/formulaires/",
            "/declarations/verifier/",
            "/declarations/jetons/",
        ],
        ("public", None): ["/", "/comptes/connexion/"],
        ("public", "hotline"): [
            "/operateur/",
            "/operateur/anomalies/",
            "/operateur/evolutions/",
            "/operateur/evolutions/synthese/",
            "/operateur/formulaires/temps/",
            "/operateur/formulaires/temps/rapport/",
            "/operateur/versions/",
            "/operateur/versions/suivi/",
            "/operateur/maintenances/",
            "/operateur/securite/",
            "/operateur/securite/regles/",
            "/operateur/securite/regles/nouvelle/",
            "/operateur/reversibilite/",
        ],
        ("public", "cglls"): ["/operateur/maintenances/"],
    }
    problems = []
    for (code, username), urls in pages.items():
        user = demo_user(code, username) if username else None
        client = client_for(code, user)
        for url in urls:
            response = client.get(url, follow=True)
            problems += strict_policy_problems(response, f"{code} {username} {url}")
    assert problems == [], "\n".join(problems)


def test_the_wagtail_admin_alone_has_the_relaxed_policy(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    response = client.get("/cms/", follow=True)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'self'"] and policy["object-src"] == ["'none'"]


def test_the_content_pages_meet_the_policy(client_for, demo_user):
    from tests.faq_wiki.test_pages import build_tree

    urls = build_tree("oph")
    urls["print"] = urls["manual"] + "?imprimer=1"
    client = client_for("oph", demo_user("oph", "organisme"))
    problems = []
    for name, url in urls.items():
        problems += strict_policy_problems(client.get(url), f"{name} {url}")
    assert problems == [], "\n".join(problems)
    printable = client.get(urls["print"]).content.decode()
    assert "data-print" in printable and "manual_print.js" in printable
