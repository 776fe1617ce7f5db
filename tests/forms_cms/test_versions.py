"""Uploading form versions: what is stored, what is refused (and then nothing is stored)."""

from __future__ import annotations

import html
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django_tenants.utils import schema_context
from lxml import etree
from openpyxl.workbook.defined_name import DefinedName

from fixtures import hostile_uploads as hostile
from forms_cms.models import DocumentType, Field, FormVersion, VersionFile
from forms_cms.services import FormImportError, form_version_import
from forms_cms.workbook.xsd import xml_validator
from workflow.models import Campaign

from .engine.helpers import workbook_bytes

pytestmark = pytest.mark.django_db

SHEETS = {
    "Actif": {
        "A1": "Bilan actif",
        "B2": "Brut",
        "A3": "Immobilisations",
        "B3": 1000,
        "A4": "Stocks",
        "B4": 250.5,
        "A5": "Total actif",
        "B5": "=SUM(B3:B4)",
    },
    "Passif": {
        "B2": "Montant",
        "A3": "Capital",
        "B3": 800,
        "A4": "Résultat",
        "B4": "=Actif!B5-B3",
        "A5": "Total passif",
        "B5": "=B3+B4",
    },
}
NAMES = {
    "ACT_IMMO": "Actif!$B$3",
    "TC_ACT_STOCKS": "Actif!$B$4",
    "TOTAL_ACTIF": "Actif!$B$5",
    "PAS_CAPITAL": "Passif!$B$3",
    "PAS_RESULTAT": "Passif!$B$4",
    "TOTAL_PASSIF": "Passif!$B$5",
}


def upload(code, content, *, user, name="bilan.xlsx", document="ER_SOCIAUX"):
    with schema_context(code):
        return form_version_import(
            document_type=DocumentType.objects.get(code=document),
            campaign=Campaign.objects.get(exercise=2024),
            file_name=name,
            content=content,
            acting_user=user,
        )


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def test_upload_stores_fields_sheets_files(gestionnaire):
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        version = FormVersion.objects.get(pk=version.pk)
        assert version.number == 1
        assert (version.input_count, version.computed_count, version.common_count) == (3, 3, 1)
        fields = {f.name: f for f in version.fields.all()}
        assert fields["ACT_IMMO"].label == "Immobilisations — Brut"
        assert fields["ACT_IMMO"].kind == Field.Kind.INPUT
        assert fields["TOTAL_ACTIF"].kind == Field.Kind.COMPUTED
        assert fields["TOTAL_ACTIF"].formula == "=SUM(B3:B4)"
        assert fields["TC_ACT_STOCKS"].common
        assert [s.name for s in version.sheets.all()] == ["Actif", "Passif"]
        assert {f.kind for f in version.files.all()} == set(VersionFile.Kind.values)
        # the compiled formulas load and compute
        from forms_cms.engine import CompiledForm

        form = CompiledForm.loads(bytes(version.file("compiled").content))
        values = form.values_by_name(form.evaluate({"PAS_CAPITAL": 1000}))
        assert values["TOTAL_PASSIF"] == 1250.5
        assert values["PAS_RESULTAT"] == 250.5
        # the specification file shows each name in its cell
        spec = openpyxl.load_workbook(io.BytesIO(bytes(version.file("specification").content)))
        assert spec["Actif"]["B3"].value == "ACT_IMMO"
        assert spec["Passif"]["B5"].value == "TOTAL_PASSIF"
        # the XSD validates a declaration of this version
        validator = xml_validator(bytes(version.file("xsd").content))
        ns = "urn:harmonia:formulaire:ER_SOCIAUX:1"
        document = etree.fromstring(
            f'<declaration xmlns="{ns}" formulaire="ER_SOCIAUX" version="1" siren="552081317" '
            f'exercice="2024"><champs><ACT_IMMO>12</ACT_IMMO><TC_ACT_STOCKS>3.25</TC_ACT_STOCKS></champs></declaration>'.encode()
        )
        assert validator.validate(document), validator.error_log


def test_second_version_lists_changes_and_keeps_edited_labels(gestionnaire):
    first = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        field = first.fields.get(name="ACT_IMMO")
        field.label = "Immobilisations nettes"
        field.save()
    sheets = {
        "Actif": {**SHEETS["Actif"], "B5": "=ROUND(SUM(B3:B4),0)", "B6": 3},
        "Passif": SHEETS["Passif"],
    }
    names = {**NAMES, "ACT_AUTRES": "Actif!$B$6"}
    del names["PAS_CAPITAL"]
    second = upload("dhup", workbook_bytes(sheets, names), user=gestionnaire)
    with schema_context("dhup"):
        second = FormVersion.objects.get(pk=second.pk)
        assert second.number == 2
        assert second.previous_id == first.pk
        assert second.changes["added"] == ["ACT_AUTRES"]
        assert second.changes["removed"] == ["PAS_CAPITAL"]
        assert [c["name"] for c in second.changes["formula_changed"]] == ["TOTAL_ACTIF"]
        assert second.fields.get(name="ACT_IMMO").label == "Immobilisations nettes"
        # the first version is kept as it was
        assert FormVersion.objects.get(pk=first.pk).fields.filter(name="PAS_CAPITAL").exists()


def _zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _workbook_with_names(names: dict[str, str], sheets=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for coordinate, value in (sheets or {"A1": 1, "A2": 2, "B1": "=A1"}).items():
        ws[coordinate] = value
    for name, ref in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _duplicate_names() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A2"] = 1, 2
    wb.defined_names["MONTANT"] = DefinedName("MONTANT", attr_text="S!$A$1")
    ws.defined_names["montant"] = DefinedName("montant", attr_text="S!$A$2")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


BAD_WORKBOOKS = [
    ("texte.xlsx", b"SIREN;Nom\n552081317;Office", "n'est pas un classeur"),
    ("ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    (
        "protege.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptionInfo".encode("utf-16-le"),
        "mot de passe",
    ),
    ("sans_classeur.xlsx", _zip_with({"hello.txt": b"x"}), "xl/workbook.xml"),
    ("ref.xlsx", _workbook_with_names({"PERDU": "#REF!"}), "#REF!"),
    ("doublon.xlsx", _duplicate_names(), "MONTANT"),
    ("plage.xlsx", _workbook_with_names({"PLAGE": "S!$A$1:$A$2"}), "PLAGE"),
    (
        "boucle.xlsx",
        _workbook_with_names({"X": "S!$B$1"}, {"A1": "=B1", "B1": "=A1+1"}),
        "référence circulaire",
    ),
    (
        "fonction.xlsx",
        _workbook_with_names({"X": "S!$B$1"}, {"A1": 1, "B1": "=XLOOKUP(1,A1:A2,A1:A2)"}),
        "XLOOKUP",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_WORKBOOKS, ids=lambda x: str(x)[:20])
def test_bad_workbooks_are_refused_and_nothing_is_stored(gestionnaire, name, content, expected):
    with schema_context("dhup"):
        before = (FormVersion.objects.count(), Field.objects.count(), VersionFile.objects.count())
    with pytest.raises(FormImportError) as caught:
        upload("dhup", content, user=gestionnaire, name=name)
    assert expected in str(caught.value)
    with schema_context("dhup"):
        after = (FormVersion.objects.count(), Field.objects.count(), VersionFile.objects.count())
    assert after == before


def test_zip_bomb_is_refused(gestionnaire, settings):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (220 * 1024 * 1024))
    with pytest.raises(FormImportError, match="décompress|bombe|taille"):
        upload("dhup", bomb.getvalue(), user=gestionnaire)


def test_only_gestionnaires_upload(demo_user):
    with pytest.raises(PermissionDenied):
        upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "organisme"))


def test_document_must_be_collected_by_the_campaign(gestionnaire):
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        campaign.document_types.remove(DocumentType.objects.get(code="ER_MOI"))
    with pytest.raises(FormImportError, match="ne collecte pas"):
        upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, document="ER_MOI")


def test_upload_page_and_detail(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        campaign = Campaign.objects.get(exercise=2024)
    response = client.post(
        "/formulaires/deposer/",
        {
            "document_type": er.pk,
            "campaign": campaign.pk,
            "file": SimpleUploadedFile("bilan.xlsx", workbook_bytes(SHEETS, NAMES)),
        },
    )
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "3 champs de saisie · 3 champs calculés · 1 champs du tronc commun" in detail
    assert "Immobilisations — Brut" in detail
    with schema_context("dhup"):
        version = FormVersion.objects.get()
    xsd = client.get(f"/formulaires/{version.pk}/fichiers/xsd/")
    assert xsd.status_code == 200
    assert b"ACT_IMMO" in xsd.content
    assert client.get(f"/formulaires/{version.pk}/fichiers/compiled/").status_code == 404


def test_refused_upload_shows_every_problem(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        campaign = Campaign.objects.get(exercise=2024)
    content = _workbook_with_names({"X": "S!$B$1"}, {"A1": "=FOO(1)", "B1": "=BAR(2)"})
    response = client.post(
        "/formulaires/deposer/",
        {
            "document_type": er.pk,
            "campaign": campaign.pk,
            "file": SimpleUploadedFile("f.xlsx", content),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "rien n'a été enregistré" in page
    assert "FOO" in page and "BAR" in page


def test_upload_refused_to_other_roles_and_versions_stay_on_their_platform(
    client_for, demo_user, gestionnaire
):
    organisme = client_for("dhup", demo_user("dhup", "organisme"))
    assert organisme.get("/formulaires/deposer/").status_code == 403
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    assert organisme.get(f"/formulaires/{version.pk}/").status_code == 200
    other = client_for("oph", demo_user("oph", "gestionnaire"))
    assert other.get(f"/formulaires/{version.pk}/").status_code == 404
    assert other.get(f"/formulaires/{version.pk}/fichiers/source/").status_code == 404
    assert "bilan.xlsx" not in other.get("/formulaires/").content.decode()


def test_gestionnaire_edits_a_label_without_reuploading(client_for, demo_user, gestionnaire):
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        field = version.fields.get(name="PAS_CAPITAL")
    client = client_for("dhup", gestionnaire)
    url = f"/formulaires/{version.pk}/champs/{field.pk}/"
    response = client.post(url, {"label": "Capital social", "required": "on"})
    assert response.status_code == 302
    with schema_context("dhup"):
        field.refresh_from_db()
        assert (field.label, field.required, field.workbook_label) == (
            "Capital social",
            True,
            "Capital — Montant",
        )
    organisme = client_for("dhup", demo_user("dhup", "organisme"))
    assert organisme.post(url, {"label": "x"}).status_code == 403


def test_forms_are_reachable_from_the_platform_admin(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    page = client.get("/cms/").content.decode()
    assert "Formulaires (supports Excel)" in page
    assert "/formulaires/" in page


def test_er_sociaux_sized_workbook_uploads_with_every_field(gestionnaire, tmp_path):
    """The real size: 9,804 fields (6,091 input, 3,713 computed; the five lists' columns are
    fields), 22 sheets."""
    from fixtures.form_workbooks import form_workbook_build

    path = form_workbook_build("er_sociaux", tmp_path / "er.xlsx")
    version = upload("dhup", path.read_bytes(), user=gestionnaire, name="ER 2024.xlsx")
    with schema_context("dhup"):
        version = FormVersion.objects.get(pk=version.pk)
        assert (version.input_count, version.computed_count) == (6091, 3713)
        assert version.fields.count() == 9804
        # common: the TC_ names and the columns of the TC_ tables
        common = models.Q(name__startswith="TC_") | models.Q(table__startswith="TC_")
        assert version.common_count == version.fields.filter(common).count() == 4720
        assert set(version.fields.exclude(table="").values_list("table", flat=True)) == {
            "FILIALES", "PARTICIPATIONS", "TC_EXCEPTIONNELS", "TC_ADMINISTRATEURS", "ACTIONNAIRES"
        }  # fmt: skip
        assert version.sheets.count() == 22
        assert version.stats["formulas"] == 3713
        labelled = version.fields.exclude(label=models.F("name")).count()
        assert labelled > 9000  # labels come from the sheets' row and column headers


def test_gestionnaire_configures_the_document_types(client_for, demo_user, gestionnaire):
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    response = client.post(
        "/formulaires/types/",
        {"code": "enquete_effectifs", "label": "Enquête effectifs", "position": 5},
    )
    assert response.status_code == 302
    with schema_context("oph"):
        assert DocumentType.objects.get(code="ENQUETE_EFFECTIFS").label == "Enquête effectifs"
    with schema_context("dhup"):
        assert not DocumentType.objects.filter(code="ENQUETE_EFFECTIFS").exists()
    bad = client.post("/formulaires/types/", {"code": "1 bad", "label": "x", "position": 0})
    assert "commence par une lettre majuscule" in bad.content.decode()
    # once a version exists, the code is frozen (it names the form in the XML format)
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    dhup = client_for("dhup", gestionnaire)
    page = dhup.post(
        f"/formulaires/types/{version.document_type_id}/",
        {"code": "AUTRE", "label": "x", "position": 0},
    ).content.decode()
    assert "son code ne peut plus changer" in page
    organisme = client_for("oph", demo_user("oph", "organisme"))
    assert organisme.get("/formulaires/types/").status_code == 403


# --- hostile uploads (issue 17): refused by the guard, nothing stored --------------------------


@pytest.mark.parametrize("kind", sorted(hostile.HOSTILE))
def test_hostile_workbooks_are_refused_and_nothing_is_stored(gestionnaire, kind):
    build, expected = hostile.HOSTILE[kind]
    content = build(workbook_bytes(SHEETS, NAMES))
    with schema_context("dhup"):
        before = (FormVersion.objects.count(), Field.objects.count(), VersionFile.objects.count())
    for name in ("bilan.xlsx", "bilan.xlsm"):
        with pytest.raises(FormImportError) as caught:
            upload("dhup", content, user=gestionnaire, name=name)
        assert len(caught.value.problems) == 1
        assert expected in caught.value.problems[0]
        assert f"« {name} »" in caught.value.problems[0]
    with schema_context("dhup"):
        after = (FormVersion.objects.count(), Field.objects.count(), VersionFile.objects.count())
    assert after == before


def test_hostile_workbook_refused_on_the_upload_page(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        campaign = Campaign.objects.get(exercise=2024)
    for build, expected in (hostile.HOSTILE["far_cell"], hostile.HOSTILE["macro_enabled"]):
        response = client.post(
            "/formulaires/deposer/",
            {
                "document_type": er.pk,
                "campaign": campaign.pk,
                "file": SimpleUploadedFile("bilan.xlsx", build(workbook_bytes(SHEETS, NAMES))),
            },
        )
        page = html.unescape(response.content.decode())
        assert response.status_code == 200
        assert "rien n'a été enregistré" in page
        assert expected in page
    with schema_context("dhup"):
        assert not FormVersion.objects.exists()
