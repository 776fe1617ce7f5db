"""The editors' API: token authentication, import and export, who gets nothing."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from declarations.models import ApiToken
from forms_cms.workbook.xsd import MAX_XML_BYTES
from workflow.models import Dossier

from .test_online_form import declarant, outsider, version  # noqa: F401
from .test_xml import document

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(declarant):  # noqa: F811
    with schema_context("dhup"):
        _, key = ApiToken.issue(user=declarant, name="Logiciel comptable")
    return key


def post(client, body: bytes, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(
        "/api/v1/declarations/import", body, content_type="application/xml", **headers
    )


def test_import_creates_the_dossier_and_applies_the_values(
    version,
    declarant,
    key,
    client_for,  # noqa: F811
):
    client = client_for("dhup")
    siren = declarant.membership.organism.siren
    response = post(client, document("<ACT_IMMO>250.5</ACT_IMMO>", siren=siren), key)
    assert response.status_code == 200, response.content
    report = response.json()["rapport"]
    assert report["applique"] == [{"champ": "ACT_IMMO", "avant": None, "apres": 250.5}]
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=response.json()["dossier"])
        assert dossier.computed["TOTAL_ACTIF"] == 250.5
    exported = client.get(
        "/api/v1/declarations/ER_SOCIAUX/2024/xml", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert exported.status_code == 200 and b"<ACT_IMMO>250.50</ACT_IMMO>" in exported.content
    refused = post(client, document("<ACT_IMMO>x</ACT_IMMO>", siren=siren), key)
    assert refused.status_code == 422
    assert refused.json()["rapport"]["invalide"][0]["champ"] == "ACT_IMMO"


def test_tokens_are_checked(version, declarant, outsider, key, client_for, demo_user):  # noqa: F811
    client = client_for("dhup")
    siren = declarant.membership.organism.siren
    body = document("<ACT_IMMO>1</ACT_IMMO>", siren=siren)
    assert post(client, body).status_code == 401
    assert post(client, body, "hrm_0000_nope").status_code == 401
    # another organism's token cannot write this organism's dossier
    with schema_context("dhup"):
        _, other_key = ApiToken.issue(user=outsider, name="autre")
    assert post(client, body, other_key).status_code == 403
    # a token of this platform means nothing on another platform
    assert post(client_for("oph"), body, key).status_code == 401
    # revoked
    with schema_context("dhup"):
        token = ApiToken.objects.get(user=declarant)
    user_client = client_for("dhup", declarant)
    user_client.post(f"/declarations/jetons/{token.pk}/revoquer/")
    assert post(client, body, key).status_code == 401


def test_token_page_shows_the_key_once(declarant, client_for):  # noqa: F811
    client = client_for("dhup", declarant)
    page = client.post("/declarations/jetons/", {"name": "ERP"}).content.decode()
    assert "Copiez ce jeton maintenant" in page and "hrm_" in page
    again = client.get("/declarations/jetons/").content.decode()
    assert "Copiez ce jeton maintenant" not in again and "ERP" in again
    with schema_context("dhup"):
        token = ApiToken.objects.get(user=declarant)
        assert len(token.key_hash) == 64  # only a hash is kept


def test_openapi_description(client_for):
    description = client_for("dhup").get("/api/v1/openapi.json").json()
    assert description["openapi"].startswith("3.")
    assert "/api/v1/declarations/import" in description["paths"]
    json.dumps(description)


def test_the_body_limit_is_the_documented_import_limit(version, declarant, key, client_for):  # noqa: F811
    """Issue 17: a valid 12 MB file (over Django's 10 MB form-data limit) is imported; a file
    over the documented 20 MB is refused with 413 and a French message, nothing changed."""
    client = client_for("dhup")
    siren = declarant.membership.organism.siren
    # comments (a software's notes, 12 of 1 MB) leave the declaration valid
    padding = "".join(f"\n<!-- note {n} {'x' * 1024 * 1024} -->" for n in range(12))
    body = document(f"<ACT_IMMO>250.5</ACT_IMMO>{padding}", siren=siren)
    assert 12 * 1024 * 1024 < len(body) < MAX_XML_BYTES
    response = post(client, body, key)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["rapport"]["applique"][0]["champ"] == "ACT_IMMO"
    too_big = document(f"<ACT_IMMO>1</ACT_IMMO>\n{' ' * MAX_XML_BYTES}", siren=siren)
    refused = post(client, too_big, key)
    assert refused.status_code == 413
    assert refused.json()["message"].startswith("Le fichier dépasse 20 Mo")
    with schema_context("dhup"):
        assert Dossier.objects.get().values["ACT_IMMO"] == 250.5
