"""The read API (/api/v1/): every token (gestionnaire, partner sent or not sent, organisme,
revoked, another platform's, none) × every step, the status and no value in a refused body;
the values as JSON equal to the dossier's (tables included) and as XML; pagination; the
tokens' pages; the OpenAPI document and its interactive docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from declarations.models import ApiToken
from declarations.services import dossier_table_save
from fixtures.parity_corpus.tables import table_workbook
from organisms.models import Organism, Partner
from partners.models import AccessLog, Transmission
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from tests.declarations.test_xml import document as xml_document
from tests.helpers import transmit
from tests.workflow.test_confidentiality_matrix import SENT_DIGITS, STEPS, WIP_DIGITS, reach
from workflow.models import Dossier

from ..forms_cms.test_versions import upload

pytestmark = pytest.mark.django_db

WHITESPACE = re.compile(r"[\s\u00a0\u202f]")
LIST = "/api/v1/campagnes/2024/ER_SOCIAUX/dossiers"


def key_of(user, schema: str = "dhup", name: str = "Logiciel") -> str:
    with schema_context(schema):
        return ApiToken.issue(user=user, name=name)[1]


VALIDATE = "/api/v1/declarations/verifier"


def get(client, url: str, key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.get(url, **headers)


def flat(response) -> str:
    return WHITESPACE.sub("", response.content.decode("utf-8", "replace"))


def listed(response, dossier) -> dict | None:
    return next((d for d in response.json()["dossiers"] if d["id"] == dossier.pk), None)


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.mark.parametrize("step", STEPS)
def test_each_token_at_each_step(step, version, declarant, outsider, gestionnaire,  # noqa: F811
                                 client_for, demo_user):  # fmt: skip
    dossier = reach(step, declarant, gestionnaire)
    run_queued_jobs()
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == step
        live = dict(dossier.values)
    transmitted = step not in ("1", "2", "3")
    revoked_key = key_of(gestionnaire, name="révoqué")
    with schema_context("dhup"):
        ApiToken.objects.filter(name="révoqué").update(revoked_at=dossier.updated_at)
    keys = {
        "gestionnaire": key_of(gestionnaire),
        "partner sent": key_of(demo_user("dhup", "partenaire-cdc")),
        "partner not sent": key_of(demo_user("dhup", "partenaire-prefecture")),
        "organisme": key_of(declarant),
        "other organism": key_of(outsider),
        "editeur": key_of(demo_user("dhup", "editeur")),  # checks files, reads nothing
        "revoked": revoked_key,
        "other platform": key_of(demo_user("oph", "gestionnaire"), "oph"),
        "bad": "hrm_0000_nope",
        "none": None,
    }
    client = client_for("dhup")
    base = f"/api/v1/dossiers/{dossier.pk}"
    absent = "/api/v1/dossiers/999999999"
    for who, key in keys.items():
        responses = {url: get(client, url, key) for url in (LIST, base, f"{base}/xml")}
        for url, response in responses.items():
            body = flat(response)
            assert WIP_DIGITS not in body, (step, who, url)  # never the work in progress
            if who == "gestionnaire" and transmitted and url != LIST:
                continue
            if who == "partner sent" and transmitted and url != LIST:
                continue
            assert SENT_DIGITS not in body, (step, who, url)
            if response.status_code != 200:
                assert response["Content-Type"].startswith("application/json"), (step, who)
                assert response.json()["detail"], (step, who, url)
        statuses = [r.status_code for r in responses.values()]
        if who in ("revoked", "other platform", "bad", "none"):
            assert statuses == [401, 401, 401], (step, who)
            assert "Jeton d'accès absent, invalide ou révoqué" in responses[LIST].json()["detail"]
        elif who == "editeur":
            assert statuses == [403, 403, 403], (step, who)
            assert "éditeur de logiciel" in responses[LIST].json()["detail"]
        elif who in ("organisme", "other organism"):
            assert statuses == [403, 403, 403], (step, who)
            assert "pas à l'API de lecture" in responses[LIST].json()["detail"]
        elif who == "gestionnaire":
            row = listed(responses[LIST], dossier)
            assert row is not None and row["etape"] == step, (step, row)
            assert row["valeurs_lisibles"] is transmitted
            assert row["organisme"]["siren"] == declarant.membership.organism.siren
            expected = 200 if transmitted else 404
            assert statuses[1:] == [expected, expected], (step, statuses)
        elif who == "partner sent":
            row = listed(responses[LIST], dossier)
            assert (row is not None) is transmitted, (step, row)
            expected = 200 if transmitted else 404
            assert statuses == [200, expected, expected], (step, statuses)
        else:  # the préfecture: left to the organism's choice, not chosen
            assert responses[LIST].json()["total"] == 0
            assert statuses == [200, 404, 404], (step, statuses)
        if statuses[1] == 404:  # as if it did not exist: the answer for a missing number
            missing = get(client, absent, key)
            assert missing.status_code == 404
            assert responses[base].json()["detail"] == missing.json()["detail"].replace(
                "999999999", str(dossier.pk)
            )
    # the editors' check without saving (declarations/verifier): the owner checks against its
    # dossier (refused once closed, with the reason), an editor against the version; no one
    # else; no value in anyone's answer but the owner's, and nothing changes
    with schema_context("dhup"):
        revision = Dossier.objects.get(pk=dossier.pk).revision
    check = xml_document("<PAS_CAPITAL>3</PAS_CAPITAL>", siren=declarant.membership.organism.siren)
    for who, key in keys.items():
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        response = client.post(VALIDATE, check, content_type="application/xml", **headers)
        expected = {
            "organisme": 200 if step in ("1", "2", "3", "4R") else 422,
            "editeur": 200,
            "other organism": 403,
            "gestionnaire": 403,
            "partner sent": 403,
            "partner not sent": 403,
        }.get(who, 401)
        assert response.status_code == expected, (step, who, response.content[:200])
        body = flat(response)
        leaked = SENT_DIGITS in body or WIP_DIGITS in body
        assert not leaked or who == "organisme", (step, who)
        if who == "organisme" and expected == 422:
            assert "ne peut plus être modifié" in " ".join(response.json()["rapport"]["erreurs"])
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).revision == revision
    # what the readers read: the values as transmitted (4R: not the work in progress)
    if transmitted:
        for who in ("gestionnaire", "partner sent"):
            values = get(client, base, keys[who]).json()
            assert values["valeurs"]["ACT_IMMO"] == 987654.32, (step, who)
            assert values["valeurs_transmises"] is (who != "gestionnaire" or step == "4R")
            xml = get(client, f"{base}/xml", keys[who])
            assert xml["Content-Type"] == "application/xml"
            assert b"<ACT_IMMO>987654.32</ACT_IMMO>" in xml.content, (step, who)
        gestionnaire_view = get(client, base, keys["gestionnaire"]).json()
        if step != "4R":
            assert gestionnaire_view["valeurs"] == live  # the live dossier, entirely
        else:
            assert live["ACT_IMMO"] == 555444.11  # the organism's work, never served


def test_a_partner_reads_only_what_was_sent_to_it(version, declarant, outsider, client_for,  # noqa: F811
                                                  demo_user):  # fmt: skip
    """The préfecture of the organism's département, chosen by one organism and not by
    another: it reads the first one's dossier only; each read is logged, refused ones too."""
    from partners.services import partner_choices_save

    organism = declarant.membership.organism
    with schema_context("dhup"):
        # the other organism in the same département, so that only the choice differs
        other = Organism.objects.filter(
            departement=organism.departement, family__in=["OPH", "ESH", "COOP"]
        ).exclude(pk=organism.pk)[0]
        outsider.membership.organism = other
        outsider.membership.save()
    mine, theirs = open_dossier(declarant), open_dossier(outsider)
    with schema_context("dhup"):
        prefecture = Partner.objects.get(kind="PREFECTURE", departement=organism.departement)
        partner_choices_save(
            organism=organism,
            document_type=mine.document_type,
            chosen_ids=[prefecture.pk],
            acting_user=declarant,
        )
    transmit(mine, declarant)
    transmit(theirs, outsider)
    user = demo_user("dhup", "partenaire-prefecture")
    assert user.membership.partner_id == prefecture.pk
    key = key_of(user)
    client = client_for("dhup")
    with schema_context("dhup"):
        logged_before = AccessLog.objects.filter(user=user).count()
    listing = get(client, LIST, key).json()
    assert [d["id"] for d in listing["dossiers"]] == [mine.pk] and listing["total"] == 1
    (row,) = listing["dossiers"]
    assert row["etape"] == "4" and row["transmis_le"] and row["date_limite"] is None
    assert get(client, f"/api/v1/dossiers/{mine.pk}", key).status_code == 200
    assert get(client, f"/api/v1/dossiers/{theirs.pk}", key).status_code == 404
    assert get(client, f"/api/v1/dossiers/{theirs.pk}/xml", key).status_code == 404
    with schema_context("dhup"):
        logs = list(
            AccessLog.objects.filter(user=user).order_by("pk").values_list("what", "granted")
        )[logged_before:]
    assert logs == [("list", True), ("values", True), ("values", False), ("xml", False)]
    # the CDC receives both; a page of one costs the queries of a page of two
    cdc_key = key_of(demo_user("dhup", "partenaire-cdc"))
    cdc = get(client, LIST, cdc_key).json()
    assert {mine.pk, theirs.pk} <= {d["id"] for d in cdc["dossiers"]}
    counts = []
    for limit in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            assert len(get(client, f"{LIST}?limit={limit}", cdc_key).json()["dossiers"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # a deactivated partner's token reads nothing
    with schema_context("dhup"):
        Partner.objects.filter(pk=prefecture.pk).update(is_active=False)
    assert get(client, LIST, key).status_code == 401


@pytest.fixture
def table_version(demo_user):
    return upload("dhup", table_workbook([], max_rows=4), user=demo_user("dhup", "gestionnaire"))


def test_the_values_equal_the_dossier_tables_included(table_version, declarant, gestionnaire,  # noqa: F811
                                                      client_for, demo_user):  # fmt: skip
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        for index, entries in enumerate(
            [
                {"FIL_NOM": "Alpha SA", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50 %"},
                {"FIL_NOM": "Béta & fils", "FIL_CAPITAL": "3 000,50"},
            ]
        ):
            dossier_table_save(
                dossier=dossier, table="Filiales", action="insert", index=index,
                seen_count=index, entries=entries, acting_user=declarant,
            )  # fmt: skip
    transmit(dossier, declarant)
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        sent = Transmission.objects.get(dossier=dossier, partner__kind="CDC")
    assert [row["FIL_NOM"] for row in dossier.values["Filiales"]] == ["Alpha SA", "Béta & fils"]
    client = client_for("dhup")
    url = f"/api/v1/dossiers/{dossier.pk}"
    for key, values, computed in (
        (key_of(gestionnaire), dossier.values, dossier.computed),
        (key_of(demo_user("dhup", "partenaire-cdc")), sent.values, sent.computed),
    ):
        answer = get(client, url, key).json()
        assert answer["valeurs"] == values and answer["calcules"] == computed
        assert answer["valeurs"]["Filiales"][0]["FIL_CAPITAL"] == 1000
        assert answer["calcules"]["Filiales"][0]  # the calculated columns, row by row
        assert answer["version"] == table_version.number
        assert answer["formulaire"] == "ER_SOCIAUX" and answer["exercice"] == 2024
        xml = get(client, f"{url}/xml", key).content.decode()
        assert "Alpha SA" in xml and "Béta &amp; fils" in xml


def test_pagination_counts_the_whole_list(version, declarant, outsider, gestionnaire,  # noqa: F811
                                          client_for):  # fmt: skip
    opened = [open_dossier(declarant)]
    with schema_context("dhup"):
        others = list(
            Organism.objects.filter(family__in=["OPH", "ESH", "COOP"])
            .exclude(pk=declarant.membership.organism_id)
            .order_by("pk")[:6]
        )
    for organism in others:  # the second user, moved from organism to organism
        with schema_context("dhup"):
            outsider.membership.organism = organism
            outsider.membership.save()
        opened.append(open_dossier(outsider))
    with schema_context("dhup"):
        expected = list(
            Dossier.objects.filter(campaign__exercise=2024, document_type__code="ER_SOCIAUX")
            .order_by("organism__siren", "pk")
            .values_list("pk", flat=True)
        )
    assert set(d.pk for d in opened) <= set(expected)
    key = key_of(gestionnaire)
    client = client_for("dhup")
    seen = []
    for offset in range(0, len(expected), 3):
        page = get(client, f"{LIST}?limit=3&offset={offset}", key).json()
        assert page["total"] == len(expected) and page["limit"] == 3
        assert page["offset"] == offset and len(page["dossiers"]) <= 3
        seen += [d["id"] for d in page["dossiers"]]
    assert seen == expected
    first = get(client, f"{LIST}?limit=1", key).json()["dossiers"][0]
    assert first["date_limite"] and first["date_limite_regle"]
    assert first["ouvert_le"] and first["modifie_le"] and first["transmis_le"] is None
    # the same number of queries for a page of 2 and a page of 7 (no query per dossier)
    counts = []
    for limit in (2, 7):
        with CaptureQueriesContext(connection) as queries:
            assert get(client, f"{LIST}?limit={limit}", key).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # bad paging and unknown campaigns: a French message naming what to change
    too_many = get(client, f"{LIST}?limit=501", key)
    assert too_many.status_code == 422
    assert too_many.json()["detail"] == (
        "Paramètre refusé : « limit » doit être inférieur ou égal à 500."
    )
    negative = get(client, f"{LIST}?offset=-1", key)
    assert negative.status_code == 422 and "« offset »" in negative.json()["detail"]
    unknown = get(client, "/api/v1/campagnes/1990/ER_SOCIAUX/dossiers", key)
    assert unknown.status_code == 404
    assert "Aucune campagne de l'exercice 1990" in unknown.json()["detail"]
    campaigns = get(client, "/api/v1/campagnes", key).json()
    assert any(
        c["exercice"] == 2024 and "ER_SOCIAUX" in [f["code"] for f in c["formulaires"]]
        for c in campaigns
    )


def test_tokens_carry_their_users_role(gestionnaire, declarant, client_for, demo_user):  # noqa: F811
    """Gestionnaires and partner users make and revoke their own tokens on the tokens' page;
    a token dies with its revocation or with a change of its user's role."""
    client = client_for("dhup")
    for user, scope in (
        (gestionnaire, "gestionnaire"),
        (demo_user("dhup", "partenaire-cdc"), "partenaire"),
    ):
        page = client_for("dhup", user)
        assert 'data-testid="api-tokens"' in page.get("/").content.decode()  # from home
        created = page.post("/declarations/jetons/", {"name": "Entrepôt de données"})
        assert created.status_code == 200
        text = created.content.decode()
        assert "Copiez ce jeton maintenant" in text and 'data-testid="read-api"' in text
        key = created.context["new_key"]
        with schema_context("dhup"):
            token = ApiToken.objects.get(user=user)
            assert token.scope == scope and len(token.key_hash) == 64
        assert get(client, LIST, key).status_code == 200
        assert key not in page.get("/declarations/jetons/").content.decode()
        page.post(f"/declarations/jetons/{token.pk}/revoquer/")
        assert get(client, LIST, key).status_code == 401
    # nobody revokes another user's token
    own_key = key_of(declarant)
    with schema_context("dhup"):
        own = ApiToken.objects.get(user=declarant)
    assert (
        client_for("dhup", gestionnaire)
        .post(f"/declarations/jetons/{own.pk}/revoquer/")
        .status_code
        == 404
    )
    # an editor's token only checks files (declarations/verifier): the read API refuses it
    editor_page = client_for("dhup", demo_user("dhup", "editeur"))
    made = editor_page.post("/declarations/jetons/", {"name": "Banc d'essai"})
    assert made.status_code == 200 and 'data-testid="editor-api"' in made.content.decode()
    assert get(client, LIST, made.context["new_key"]).status_code == 403
    # a gestionnaire's token on the editors' import is refused as a wrong role
    editors = client.post(
        "/api/v1/declarations/import",
        b"<x/>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {key_of(gestionnaire)}",
    )
    assert editors.status_code == 403
    # a user whose role changed holds a dead token
    key = key_of(gestionnaire)
    with schema_context("dhup"):
        type(gestionnaire).objects.filter(pk=gestionnaire.pk).update(role="partenaire")
    assert get(client, LIST, key).status_code == 401
    assert get(client, LIST, own_key).status_code == 403


def test_the_openapi_document_and_its_docs(client_for):
    client = client_for("dhup")
    description = client.get("/api/v1/openapi.json").json()
    paths = description["paths"]
    for path in (
        "/api/v1/campagnes",
        "/api/v1/campagnes/{exercice}/{formulaire}/dossiers",
        "/api/v1/dossiers/{dossier_id}",
        "/api/v1/dossiers/{dossier_id}/xml",
        "/api/v1/declarations/import",  # the editors' endpoints, in the same document
        "/api/v1/declarations/{formulaire}/{exercice}/xml",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert operation["security"] == [{"BearerToken": []}]
    listing = paths["/api/v1/campagnes/{exercice}/{formulaire}/dossiers"]["get"]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["limit"]["maximum"] == 500 and params["limit"]["type"] == "integer"
    assert params["offset"]["minimum"] == 0 and params["exercice"]["type"] == "integer"
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/PageDossiers")
    for status in ("401", "403", "404"):
        assert listing["responses"][status]["content"]["application/json"]["schema"][
            "$ref"
        ].endswith("/Erreur")
    schemas = description["components"]["schemas"]
    resume = schemas["DossierResume"]["properties"]
    assert resume["organisme"]["$ref"].endswith("/Organisme")
    assert resume["etape"]["type"] == "string" and resume["id"]["type"] == "integer"
    assert schemas["PageDossiers"]["properties"]["total"]["type"] == "integer"
    assert schemas["DossierValeurs"]["properties"]["valeurs"]["type"] == "object"
    xml = paths["/api/v1/dossiers/{dossier_id}/xml"]["get"]["responses"]["200"]
    assert "application/xml" in xml["content"]
    assert description["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    # every call the users' documentation names is in the document
    templates = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in paths]
    manual = (Path(__file__).resolve().parents[2] / "docs" / "api-lecture.md").read_text()
    named = re.findall(r"`GET (/api/v1/[^`?\s]*)", manual)
    assert len(named) >= 4
    for call in named:
        concrete = re.sub(r"<[^>]+>", "42", call)
        assert any(t.match(concrete) for t in templates), call
    # the interactive docs: Swagger UI from our own host (no CDN), no inline script
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "/api/v1/openapi.json" in page
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page) is None
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui.css")
