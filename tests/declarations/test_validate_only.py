"""Checking a file without importing it (« vérifier sans importer »): the import's own checks
and report, nothing written — every table's row count and the dossier's revision unchanged —,
the same refusals in the same words, for organisms (their dossier's page, the API) and
software editors (a form version's page, the API with an editor's token)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context

from declarations.models import ApiToken
from declarations.services import dossier_values_save
from declarations.services.imports import (
    dossier_import_workbook,
    dossier_import_xml,
    dossier_validate_workbook,
    dossier_validate_xml,
    version_validate_workbook,
    version_validate_xml,
)
from forms_cms.support import dossier_support
from forms_cms.workbook.xsd import MAX_XML_BYTES
from forms_cms.xmlformat import XmlImportRefused
from tests.helpers import transmit
from workflow.models import Dossier

from .test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from .test_xml import BAD, doc_for, document

pytestmark = pytest.mark.django_db
VALIDATE = "/api/v1/declarations/verifier"
IMPORT = "/api/v1/declarations/import"


def row_counts(schema: str) -> dict[str, int]:
    """Every table of ``schema`` and of public (the job queue lives there) with its row
    count; but the shared cache's table, where the rate limits count requests."""
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (%s, 'public') AND table_type = 'BASE TABLE'",
            [schema],
        )
        for table_schema, table in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table_schema}"."{table}"')  # noqa: S608
            counts[f"{table_schema}.{table}"] = cursor.fetchone()[0]
    counts.pop("public.harmonia_cache", None)
    return counts


def state(dossier):
    row = Dossier.objects.get(pk=dossier.pk)
    return row.values, row.computed, row.revision, row.step, row.failing_controls


def texts(report) -> list[str]:
    return report.errors + [f"{n} {r}" for n, r in report.unknown + report.invalid]


def as_dict(report) -> dict:
    return {
        "applied": report.applied,
        "unchanged": report.unchanged,
        "computed_ignored": report.computed_ignored,
        "computed_differences": report.computed_differences,
        "blocking_failures": report.blocking_failures,
        "warnings": report.warnings,
    }


@pytest.fixture
def dossier(version, declarant, demo_user):  # noqa: F811
    """A dossier with values, and a blocking control that the file below makes pass."""
    from forms_cms.controls import control_create

    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        control_create(
            version=dossier.form_version,
            values={"code": "B1", "label": "Capital", "kind": "comparison",
                    "left": "PAS_CAPITAL", "operator": ">", "right": "0",
                    "severity": "blocking"},
            acting_user=demo_user("dhup", "gestionnaire"),
        )  # fmt: skip
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "TC_ACT_STOCKS": "3"},
            acting_user=declarant,
        )  # fmt: skip
        dossier.refresh_from_db()
        # the relations the tests read, fetched here, in the platform's schema
        dossier.organism, dossier.campaign, dossier.form_version.document_type  # noqa: B018
    return dossier


FILE = (
    "<ACT_IMMO>250.5</ACT_IMMO><TC_ACT_STOCKS>3</TC_ACT_STOCKS><PAS_CAPITAL>9</PAS_CAPITAL>"
    "<TOTAL_ACTIF>1</TOTAL_ACTIF>"
)


def test_validating_changes_nothing_and_reports_what_the_import_then_does(dossier, declarant):  # noqa: F811
    data = doc_for(dossier, FILE)
    with schema_context("dhup"):
        before_rows, before = row_counts("dhup"), state(dossier)
        assert before[4] == 1  # B1 fails before
        checked = dossier_validate_xml(dossier=dossier, data=data, acting_user=declarant)
        assert row_counts("dhup") == before_rows
        assert state(dossier) == before
        # the caller's instance is not touched either
        assert dossier.values["ACT_IMMO"] == 100 and dossier.revision == before[2]
        assert [n for n, _, _ in checked.applied] == ["ACT_IMMO", "PAS_CAPITAL"]
        assert checked.unchanged == ["TC_ACT_STOCKS"]
        # the recomputation as the import would store it: TOTAL_ACTIF = 250.5 + 3
        assert checked.computed_differences == [("TOTAL_ACTIF", 1.0, 253.5)]
        assert checked.blocking_failures == []  # as B1 would stand after the import
        imported = dossier_import_xml(dossier=dossier, data=data, acting_user=declarant)
        assert as_dict(checked) == as_dict(imported)
        assert state(dossier)[2] == before[2] + 1


def test_the_filled_support_is_checked_as_its_import(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        support = dossier_support(dossier)  # ACT_IMMO 100
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "7"}, acting_user=declarant)
        dossier.refresh_from_db()
        before_rows, before = row_counts("dhup"), state(dossier)
        checked = dossier_validate_workbook(
            dossier=dossier, data=support, acting_user=declarant, filename="s.xlsx"
        )
        assert row_counts("dhup") == before_rows and state(dossier) == before
        assert ("ACT_IMMO", 7, 100) in checked.applied
        imported = dossier_import_workbook(
            dossier=dossier, data=support, acting_user=declarant, filename="s.xlsx"
        )
        assert as_dict(checked) == as_dict(imported)
        with pytest.raises(XmlImportRefused) as by_check:
            dossier_validate_workbook(
                dossier=dossier, data=b"pas un classeur", acting_user=declarant, filename="s.xlsx"
            )
        with pytest.raises(XmlImportRefused) as by_import:
            dossier_import_workbook(
                dossier=dossier, data=b"pas un classeur", acting_user=declarant, filename="s.xlsx"
            )
        assert texts(by_check.value.report) == texts(by_import.value.report) != []


REFUSED = [
    (lambda d: document("<ACT_IMMO>1</ACT_IMMO>", siren="552081317"), "n'est pas celui"),
    (lambda d: doc_for(d, "<ACT_IMMO>1</ACT_IMMO>", exercice="2023"), "exercice 2023"),
    (
        lambda d: doc_for(
            d, "<ACT_IMMO>1</ACT_IMMO>", ns="urn:harmonia:formulaire:ER_SOCIAUX:7", version_attr="7"
        ),
        "version 7",
    ),  # fmt: skip
    (lambda d: doc_for(d, "<TOTAL_ACTIF>1</TOTAL_ACTIF>"), "aucun champ de saisie"),
    (lambda d: doc_for(d, "<ACT_IMMO>douze</ACT_IMMO>"), "montant attendu"),
    (lambda d: doc_for(d, "<ACT_IMMO>1.234</ACT_IMMO>"), "plus de 2 décimales"),
    (lambda d: doc_for(d, "<INCONNU>1</INCONNU>"), "champ inconnu"),
    (lambda d: doc_for(d, "<ACT_IMMO>1</ACT_IMMO><ACT_IMMO>2</ACT_IMMO>"), "plusieurs fois"),
    (lambda d: b"<x/>" + b" " * (MAX_XML_BYTES + 1), "dépasse 20 Mo"),
    *((lambda d, data=data: data, message) for _, data, message in BAD),
]


def test_bad_files_get_the_import_s_own_messages(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        before_rows, before = row_counts("dhup"), state(dossier)
        for make, message in REFUSED:
            data = make(dossier)
            with pytest.raises(XmlImportRefused) as by_check:
                dossier_validate_xml(dossier=dossier, data=data, acting_user=declarant)
            with pytest.raises(XmlImportRefused) as by_import:
                dossier_import_xml(dossier=dossier, data=data, acting_user=declarant)
            assert texts(by_check.value.report) == texts(by_import.value.report), message
            assert any(message in t for t in texts(by_check.value.report)), message
        # each refused import records one security event (tenants.security_events); the checks
        # record nothing, and nothing else changed
        after_rows = row_counts("dhup")
        events = "public.tenants_securityevent"
        assert after_rows.pop(events) - before_rows.pop(events) == len(REFUSED)
        assert after_rows == before_rows and state(dossier) == before


def test_a_closed_dossier_is_checked_and_said_closed(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"PAS_CAPITAL": "5"}, acting_user=declarant)
    transmit(dossier, declarant)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        with pytest.raises(XmlImportRefused) as caught:
            dossier_validate_xml(
                dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>x</ACT_IMMO>"),
                acting_user=declarant,
            )  # fmt: skip
        report = caught.value.report
        assert report.invalid and "ne peut plus être modifié" in " ".join(report.errors)


def test_a_software_editor_checks_against_a_version_whatever_the_siren(version, demo_user):  # noqa: F811
    editeur = demo_user("dhup", "editeur")
    with schema_context("dhup"):
        before_rows = row_counts("dhup")
        report = version_validate_xml(
            version=version, data=document(FILE, siren="552081317"), acting_user=editeur
        )
        assert [n for n, _, _ in report.applied] == ["ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL"]
        assert report.computed_differences == [("TOTAL_ACTIF", 1.0, 253.5)]
        with pytest.raises(XmlImportRefused) as caught:
            version_validate_xml(
                version=version, data=document("<ACT_IMMO>douze</ACT_IMMO>", siren="552081317"),
                acting_user=editeur,
            )  # fmt: skip
        assert "montant attendu" in texts(caught.value.report)[0]
        with pytest.raises(XmlImportRefused) as caught:
            version_validate_workbook(
                version=version, data=b"PK\x03\x04...", acting_user=editeur, filename="f.xlsm"
            )
        assert "macros" in texts(caught.value.report)[0]
        assert row_counts("dhup") == before_rows


# --- the API ---------------------------------------------------------------------------------
def key_of(user, name="Logiciel") -> str:
    with schema_context("dhup"):
        return ApiToken.issue(user=user, name=name)[1]


def post(client, url, body: bytes, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(url, body, content_type="application/xml", **headers)


def test_api_validates_without_creating_or_changing_anything(
    version,
    declarant,
    outsider,
    demo_user,
    client_for,  # noqa: F811
):
    client = client_for("dhup")
    siren = declarant.membership.organism.siren
    key = key_of(declarant)
    with schema_context("dhup"):
        before_rows = row_counts("dhup")
    good = document(FILE, siren=siren)
    response = post(client, VALIDATE, good, key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valide"] is True and body["dossier"] is None  # no dossier yet: none created
    assert [a["champ"] for a in body["rapport"]["applique"]] == [
        "ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL"
    ]  # fmt: skip
    bad = document("<ACT_IMMO>douze</ACT_IMMO>", siren=siren)
    refused = post(client, VALIDATE, bad, key)
    assert refused.status_code == 422 and refused.json()["valide"] is False
    assert "Rien n'a été modifié" in refused.json()["message"]
    with schema_context("dhup"):
        counts = row_counts("dhup")
    # only the token's « last used » stamp may move: no row added or removed anywhere
    assert counts == before_rows
    # the import refuses the same file with the same report
    assert post(client, IMPORT, bad, key).json()["rapport"] == refused.json()["rapport"]
    imported = post(client, IMPORT, good, key)
    assert imported.status_code == 200
    dossier_pk = imported.json()["dossier"]
    with schema_context("dhup"):
        revision = Dossier.objects.get(pk=dossier_pk).revision
    again = post(client, VALIDATE, good, key)
    assert again.json()["dossier"] == dossier_pk
    assert again.json()["rapport"]["inchange"] == ["ACT_IMMO", "PAS_CAPITAL", "TC_ACT_STOCKS"]
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier_pk).revision == revision
    # refusals: no token, a made-up one, another platform, another organism's SIREN,
    # a read token, too big
    assert post(client, VALIDATE, good).status_code == 401
    assert post(client, VALIDATE, good, "hrm_0000_nope").status_code == 401
    assert post(client_for("oph"), VALIDATE, good, key).status_code == 401
    assert post(client, VALIDATE, good, key_of(outsider)).status_code == 403
    for reader in ("gestionnaire", "partenaire-cdc"):
        answer = post(client, VALIDATE, good, key_of(demo_user("dhup", reader)))
        assert answer.status_code == 403 and "ACT_IMMO" not in answer.content.decode()
    too_big = post(client, VALIDATE, good + b" " * MAX_XML_BYTES, key)
    assert too_big.status_code == 413 and too_big.json()["message"].startswith("Le fichier dépasse")


def test_api_editor_token_checks_against_the_named_version(version, demo_user, client_for):  # noqa: F811
    client = client_for("dhup")
    editor_key = key_of(demo_user("dhup", "editeur"))
    with schema_context("dhup"):
        before_rows = row_counts("dhup")
    response = post(client, VALIDATE, document(FILE, siren="552081317"), editor_key)
    assert response.status_code == 200, response.content
    assert response.json()["rapport"]["calcule_different"] == [
        {"champ": "TOTAL_ACTIF", "fichier": 1.0, "recalcule": 253.5}
    ]
    unknown = post(client, VALIDATE, document(FILE, siren="1", version_attr="9"), editor_key)
    assert unknown.status_code == 404 and "version 9" in unknown.json()["message"]
    unsafe = post(client, VALIDATE, BAD[0][1], editor_key)
    assert unsafe.status_code == 422 and "DOCTYPE" in unsafe.json()["rapport"]["erreurs"][0]
    # an editor's token imports nothing and exports nothing
    assert post(client, IMPORT, document(FILE, siren="552081317"), editor_key).status_code == 403
    export = client.get(
        "/api/v1/declarations/ER_SOCIAUX/2024/xml", HTTP_AUTHORIZATION=f"Bearer {editor_key}"
    )
    assert export.status_code == 403
    # nor reads anything of the read API
    assert client.get(
        "/api/v1/campagnes", HTTP_AUTHORIZATION=f"Bearer {editor_key}"
    ).status_code == 403  # fmt: skip
    with schema_context("dhup"):
        assert row_counts("dhup") == before_rows


def test_api_rate_limit_applies(version, declarant, client_for, settings):  # noqa: F811
    from tests.test_ratelimit import LIMITS

    settings.HARMONIA_RATE_LIMITS = {**LIMITS, "api_token": "1/60"}
    client = client_for("dhup")
    key = key_of(declarant)
    body = document(FILE, siren=declarant.membership.organism.siren)
    assert post(client, VALIDATE, body, key).status_code == 200
    limited = post(client, VALIDATE, body, key)
    assert limited.status_code == 429 and "Trop de requêtes" in limited.json()["message"]


def test_openapi_describes_the_check(client_for):
    paths = client_for("dhup").get("/api/v1/openapi.json").json()["paths"]
    operation = paths[VALIDATE]["post"]
    assert "sans rien enregistrer" in operation["description"]
    assert {"200", "401", "403", "404", "413", "422", "429"} <= set(operation["responses"])


# --- the pages -------------------------------------------------------------------------------
def test_dossier_page_checks_without_importing(dossier, declarant, client_for):  # noqa: F811
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{dossier.pk}/xml/"
    with schema_context("dhup"):
        before = state(dossier)
    upload = SimpleUploadedFile("d.xml", doc_for(dossier, FILE))
    page = client.post(url, {"file": upload, "verifier": "1"}).content.decode()
    assert "l'import l'accepterait" in page and "2 valeurs seraient appliquées" in page
    assert "TOTAL_ACTIF" in page  # the computed difference, as the import shows it
    bad = SimpleUploadedFile("d.xml", doc_for(dossier, "<INCONNU>1</INCONNU>"))
    page = client.post(url, {"file": bad, "verifier": "1"}).content.decode()
    assert "un import le refuserait" in page and "INCONNU" in page
    with schema_context("dhup"):
        support = dossier_support(dossier)
    upload = SimpleUploadedFile("s.xlsx", support)
    page = client.post(url, {"kind": "support", "support": upload, "verifier": "1"})
    assert "Classeur valide" in page.content.decode()
    with schema_context("dhup"):
        assert state(dossier) == before


def test_version_page_by_role(version, declarant, outsider, demo_user, client_for):  # noqa: F811
    """The version-level check: editors, organisms and gestionnaires; partners refused;
    anonymous sent to sign in; another platform's account unknown here."""
    url = "/declarations/verifier/"
    allowed = {
        "editeur": demo_user("dhup", "editeur"),
        "organisme": declarant,
        "other organism": outsider,
        "gestionnaire": demo_user("dhup", "gestionnaire"),
    }
    clients = {role: client_for("dhup", user) for role, user in allowed.items()}
    partners = {
        p: client_for("dhup", demo_user("dhup", p))
        for p in ("partenaire-cdc", "partenaire-prefecture")
    }
    other = client_for("oph", demo_user("oph", "editeur"))
    with schema_context("dhup"):
        before_rows = row_counts("dhup")  # after the sign-ins (sessions, access log)
    for role, client in clients.items():
        assert client.get(url).status_code == 200, role
        upload = SimpleUploadedFile("d.xml", document(FILE, siren="552081317"))
        page = client.post(url, {"version": version.pk, "file": upload}).content.decode()
        assert "Fichier valide" in page and "3 valeurs seraient appliquées" in page, role
        bad = document("<ACT_IMMO>1.234</ACT_IMMO>", siren="552081317")
        bad = SimpleUploadedFile("d.xml", bad)
        page = client.post(url, {"version": version.pk, "file": bad}).content.decode()
        assert "plus de 2 décimales" in page, role
    for client in partners.values():
        assert client.get(url).status_code == 403
        upload = SimpleUploadedFile("d.xml", document(FILE, siren="1"))
        refused = client.post(url, {"version": version.pk, "file": upload})
        assert refused.status_code == 403 and b"ACT_IMMO" not in refused.content
    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302 and "/connexion" in anonymous["Location"]
    upload = SimpleUploadedFile("d.xml", document(FILE, siren="1"))
    # on oph there is no such version: the form refuses the choice, nothing is checked
    page = other.post(url, {"version": version.pk, "file": upload}).content.decode()
    assert "seraient appliquées" not in page
    with schema_context("dhup"):
        assert row_counts("dhup") == before_rows
