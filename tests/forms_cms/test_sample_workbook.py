"""The upload page's sample workbook: who may download it, and that the real upload service
accepts it with each rule the page explains (names, TC_, required, list, formats, hidden
sheet, formulas)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django_tenants.utils import schema_context

from forms_cms.models import FormVersion
from tests.forms_cms.test_versions import upload

pytestmark = pytest.mark.django_db

URL = "/formulaires/deposer/exemple.xlsx"


def download(client) -> bytes:
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return response.content


def test_who_may_download_it(client_for, demo_user):
    anonymous = client_for("oph").get(URL)
    assert anonymous.status_code == 302 and "/comptes/" in anonymous["Location"]
    for username in ("organisme", "organisme2", "partenaire-cdc", "partenaire-prefecture"):
        assert client_for("oph", demo_user("oph", username)).get(URL).status_code == 403, username
    for username in ("gestionnaire", "editeur"):
        assert download(client_for("oph", demo_user("oph", username)))[:2] == b"PK", username


def test_it_uploads_cleanly_through_the_real_service(client_for, demo_user):
    content = download(client_for("dhup", demo_user("dhup", "editeur")))
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book["Listes"].sheet_state == "hidden"
    version = upload("dhup", content, user=demo_user("dhup", "gestionnaire"), name="exemple.xlsx")
    with schema_context("dhup"):
        version = FormVersion.objects.get(pk=version.pk)
        fields = {f.name: f for f in version.fields.all()}
    assert set(fields) == {
        "ACT_IMMO",
        "TC_ACT_STOCKS",
        "TOTAL_ACTIF",
        "TC_EFFECTIF",
        "TAUX_VACANCE",
        "DATE_CLOTURE",
        "CATEGORIE",
        "COMMENTAIRE",
        "PART_STOCKS",
    }  # the list's range name is not a field
    assert {n for n, f in fields.items() if f.common} == {"TC_ACT_STOCKS", "TC_EFFECTIF"}
    assert {n for n, f in fields.items() if f.required} == {"ACT_IMMO", "TC_EFFECTIF"}
    assert {n for n, f in fields.items() if f.kind == "computed"} == {"TOTAL_ACTIF", "PART_STOCKS"}
    types = {n: f.data_type for n, f in fields.items()}
    assert types["TAUX_VACANCE"] == "percentage" and types["DATE_CLOTURE"] == "date"
    assert types["TC_EFFECTIF"] == "integer" and types["COMMENTAIRE"] == "text"
    assert types["ACT_IMMO"] == "amount" and types["CATEGORIE"] == "choice"
    assert fields["CATEGORIE"].choices[0] == "Office public de l'habitat"
    assert fields["ACT_IMMO"].label == "Immobilisations"


def test_the_upload_page_explains_the_rules_and_links_the_sample(client_for, demo_user):
    html = client_for("dhup", demo_user("dhup", "gestionnaire")).get("/formulaires/deposer/")
    html = html.content.decode()
    assert URL in html
    for rule in (
        "Noms définis = champs",
        "TC_",
        "« Ignorer si vide » <strong>décochée</strong>",
        "Listes de choix",
        "Formats de nombre",
        "Feuilles masquées",
        "Cellules calculées",
    ):
        assert rule in html, rule
    assert '<abbr title="questionnaire du dossier individuel de situation">QDIS</abbr>' in html
