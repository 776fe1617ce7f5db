"""One editors' wiki: the ministry platform's editors' section lists every platform's published
form versions (read in each platform's schema) and serves their files, so that one editor
account there is enough; its editors' subscriptions cover every platform."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from forms_cms.models import VersionFile
from subscriptions.models import Scope
from subscriptions.services import subscription_create
from tests.conftest import run_queued_jobs
from tests.faq_wiki.test_pages import build_tree
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(demo_user):
    """A version on the ministry platform and one on the OPH federation's."""
    book = workbook_bytes(SHEETS, NAMES)
    return {
        "dhup": upload("dhup", book, user=demo_user("dhup", "gestionnaire")),
        "oph": upload(
            "oph",
            book,
            user=demo_user("oph", "gestionnaire"),
            name="qdis.xlsx",
            document="QDIS_OPH",
        ),
    }


def cross(code, pk, kind=None):
    base = f"/formulaires/plateformes/{code}/{pk}/"
    return base + (f"fichiers/{kind}/" if kind else "")


def test_the_ministry_lists_every_platforms_versions(client_for, demo_user, versions):
    urls = build_tree("dhup")
    editor = client_for("dhup", demo_user("dhup", "editeur"))
    response = editor.get(urls["editors"])
    page = response.content.decode()
    tables = dict(re.findall(r'data-platform="(\w+)">(.*?)</table>', page, re.S))
    assert set(tables) == {"dhup", "oph", "esh", "coop", "epl"}
    # its own versions through its own addresses, the others' through the ministry's copies
    dhup, oph = versions["dhup"], versions["oph"]
    assert f"/formulaires/{dhup.pk}/fichiers/xsd/" in tables["dhup"]
    for kind in ("source", "specification", "xsd"):
        assert cross("oph", oph.pk, kind) in tables["oph"]
    assert cross("oph", oph.pk) in tables["oph"] and "qdis.xlsx" in tables["oph"]
    assert "QDIS_OPH-v1" in tables["oph"] and "QDIS_OPH" not in tables["dhup"]
    assert "Aucune version de formulaire" in tables["esh"]

    # the files are the federation's own, served by the ministry platform
    for kind in ("source", "specification", "xsd"):
        response = editor.get(cross("oph", oph.pk, kind))
        assert response.status_code == 200, kind
        with schema_context("oph"):
            stored = VersionFile.objects.get(version_id=oph.pk, kind=kind)
        assert response.content == bytes(stored.content)
        assert stored.filename in response["Content-Disposition"]
    detail = editor.get(cross("oph", oph.pk)).content.decode()
    assert "Fédération des OPH" in detail and "Première version de ce formulaire." in detail


def test_a_federation_lists_its_own_versions_only(client_for, demo_user, versions):
    urls = build_tree("oph")
    editor = client_for("oph", demo_user("oph", "editeur"))
    page = editor.get(urls["editors"]).content.decode()
    assert re.findall(r'data-platform="(\w+)"', page) == ["oph"]
    assert f"/formulaires/{versions['oph'].pk}/fichiers/xsd/" in page
    assert "/formulaires/plateformes/" not in page


def test_the_change_list_of_another_platforms_version(client_for, demo_user, versions):
    sheets = {**SHEETS, "Actif": {**SHEETS["Actif"], "A6": "Nouveau", "B6": 7}}
    book = workbook_bytes(sheets, {**NAMES, "NOUVEAU": "Actif!$B$6"})
    second = upload("oph", book, user=demo_user("oph", "gestionnaire"), document="QDIS_OPH")
    editor = client_for("dhup", demo_user("dhup", "editeur"))
    page = editor.get(cross("oph", second.pk)).content.decode()
    assert "Changements depuis la version 1" in page
    assert "Champs ajoutés (1)" in page and "NOUVEAU" in page


@pytest.mark.parametrize(
    "code,username,expected",
    [
        ("dhup", "editeur", 200),
        ("dhup", "gestionnaire", 200),
        ("dhup", "organisme", 200),
        ("dhup", "partenaire-cdc", 200),
        ("dhup", None, 302),  # sign in first
        ("oph", "editeur", 404),  # only the ministry platform serves other platforms' files
        ("esh", "gestionnaire", 404),
        ("public", "hotline", 404),
    ],
)
def test_permission_matrix(client_for, demo_user, versions, code, username, expected):
    client = client_for(code, demo_user(code, username) if username else None)
    oph = versions["oph"]
    for url in (cross("oph", oph.pk), cross("oph", oph.pk, "xsd")):
        response = client.get(url)
        assert response.status_code == expected, (url, code, username)
        if expected != 200:
            assert b"<xs:schema" not in response.content and b"QDIS_OPH" not in response.content


def test_what_is_not_public_or_not_there_is_not_found(client_for, demo_user, versions):
    editor = client_for("dhup", demo_user("dhup", "editeur"))
    oph = versions["oph"]
    for url in (
        cross("oph", oph.pk, "compiled"),  # the compiled formulas stay internal
        cross("oph", 999999, "xsd"),
        cross("oph", 999999),
        cross("inconnue", oph.pk, "xsd"),
        cross("public", oph.pk, "xsd"),
        cross("platform_template", oph.pk, "xsd"),
    ):
        response = editor.get(url)
        assert response.status_code == 404, url
        assert b"<xs:schema" not in response.content


def test_ministry_editors_subscriptions_cover_every_platform(demo_user):
    ministry_editor = demo_user("dhup", "editeur")
    oph_editor = demo_user("oph", "editeur")
    with schema_context("dhup"):
        subscription_create(user=ministry_editor, scope=Scope.EDITORS)
    with schema_context("oph"):
        subscription_create(user=oph_editor, scope=Scope.EDITORS)
    book = workbook_bytes(SHEETS, NAMES)
    oph = upload("oph", book, user=demo_user("oph", "gestionnaire"), document="QDIS_OPH")
    dhup = upload("dhup", book, user=demo_user("dhup", "gestionnaire"))
    run_queued_jobs()
    [to_ministry] = [m for m in mail.outbox if m.to == [ministry_editor.email]]
    [to_oph] = [m for m in mail.outbox if m.to == [oph_editor.email]]
    # the ministry's editor hears of both, with links to the ministry's host only
    assert "(Fédération des OPH)" in to_ministry.body
    assert f"dhup.localhost/formulaires/plateformes/oph/{oph.pk}/" in to_ministry.body
    assert f"dhup.localhost/formulaires/plateformes/oph/{oph.pk}/fichiers/xsd/" in to_ministry.body
    assert f"dhup.localhost/formulaires/{dhup.pk}/" in to_ministry.body
    assert "oph.localhost" not in to_ministry.body
    # the federation's own editor hears of its platform's version only, as before
    assert f"oph.localhost/formulaires/{oph.pk}/" in to_oph.body
    assert "dhup" not in to_oph.body
