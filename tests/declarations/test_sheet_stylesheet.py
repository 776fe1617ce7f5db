"""The grid's stylesheet (fills, widths, heights of a sheet; declarations/views_grid.py): read
by whoever may see a sheet of the platform, kept a year by the browser, and nobody else's."""

from __future__ import annotations

import re

import pytest

from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401

pytestmark = pytest.mark.django_db


def stylesheet_url(client, dossier) -> str:
    page = client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/0/").content.decode()
    (url,) = re.findall(r'href="(/declarations/feuilles/\d+/grille-[0-9a-f]+\.css)"', page)
    return url


def test_the_sheet_stylesheet_by_role(version, declarant, client_for, demo_user):  # noqa: F811
    dossier = open_dossier(declarant)
    url = stylesheet_url(client_for("dhup", declarant), dossier)
    for username in ("organisme", "gestionnaire", "partenaire-cdc"):
        response = client_for("dhup", demo_user("dhup", username)).get(url)
        assert response.status_code == 200, username
        assert response["Content-Type"] == "text/css; charset=utf-8"
        assert "table.sheet col.cw-" in response.content.decode()
        assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert client_for("dhup", demo_user("dhup", "editeur")).get(url).status_code == 403
    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/comptes/")
    assert b"table.sheet" not in anonymous.content
    # another platform has no such sheet (or another sheet under that number: another stamp)
    assert client_for("oph", demo_user("oph", "gestionnaire")).get(url).status_code == 404
    # a stamp that is not the content's: an old address, not served
    stale = re.sub(r"grille-[0-9a-f]+", "grille-000000000000", url)
    assert client_for("dhup", declarant).get(stale).status_code == 404
