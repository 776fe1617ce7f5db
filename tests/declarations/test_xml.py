"""XML export and import in the harmonised format: round trip, field by field, refusals."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from lxml import etree

from declarations.services import dossier_values_save
from declarations.services.imports import dossier_import_xml
from forms_cms.xmlformat import XmlImportRefused, dossier_xml
from tests.helpers import transmit
from workflow.models import Dossier, ValueChange

from .test_online_form import declarant, open_dossier, outsider, version  # noqa: F401

pytestmark = pytest.mark.django_db
NS = "urn:harmonia:formulaire:ER_SOCIAUX:1"


def document(fields: str, *, siren=None, exercice="2024", ns=NS, version_attr="1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<declaration xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'formulaire="ER_SOCIAUX" version="{version_attr}" siren="{siren}" '
        f'exercice="{exercice}"><champs>{fields}</champs></declaration>'
    ).encode()


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    return open_dossier(declarant)


def doc_for(dossier, fields, **kw):
    return document(fields, siren=dossier.organism.siren, **kw)


def test_export_is_valid_and_reimporting_changes_nothing(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "1 000,50", "TC_ACT_STOCKS": "-20", "PAS_CAPITAL": "800"},
            acting_user=declarant,
        )
        data = dossier_xml(dossier)
        root = etree.fromstring(data)
        assert root.get("siren") == dossier.organism.siren
        names = [etree.QName(e).localname for e in root[0]]
        assert {"ACT_IMMO", "TOTAL_ACTIF"} <= set(names)
        from forms_cms.xmlformat import version_validator

        assert version_validator(dossier.form_version).validate(root)
        before = Dossier.objects.get(pk=dossier.pk)
        report = dossier_import_xml(dossier=dossier, data=data, acting_user=declarant)
        assert report.applied == []
        assert set(report.unchanged) == {"ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL"}
        assert "TOTAL_ACTIF" in report.computed_ignored
        assert report.computed_differences == []
        after = Dossier.objects.get(pk=dossier.pk)
        assert (after.values, after.computed, after.revision) == (
            before.values,
            before.computed,
            before.revision,
        )


def test_imports_apply_field_by_field_and_accumulate(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        first = dossier_import_xml(
            dossier=dossier,
            data=doc_for(dossier, "<ACT_IMMO>100.5</ACT_IMMO><PAS_CAPITAL>7</PAS_CAPITAL>"),
            acting_user=declarant,
        )
        assert [name for name, _, _ in first.applied] == ["ACT_IMMO", "PAS_CAPITAL"]
        second = dossier_import_xml(
            dossier=dossier,
            data=doc_for(
                dossier,
                '<TC_ACT_STOCKS>50</TC_ACT_STOCKS><PAS_CAPITAL xsi:nil="true"/>'
                "<TOTAL_ACTIF>999</TOTAL_ACTIF>",
            ),
            acting_user=declarant,
        )
        dossier.refresh_from_db()
        assert dossier.values == {"ACT_IMMO": 100.5, "TC_ACT_STOCKS": 50.0}
        assert dossier.computed["TOTAL_ACTIF"] == 150.5
        assert second.computed_ignored == ["TOTAL_ACTIF"]
        assert second.computed_differences == [("TOTAL_ACTIF", 999.0, 150.5)]
        sources = set(ValueChange.objects.filter(dossier=dossier).values_list("source", flat=True))
        assert sources == {ValueChange.Source.IMPORT}


BAD = [
    (
        "entité externe",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<declaration>&x;</declaration>",
        "DOCTYPE",
    ),
    (
        "bombe d'entités",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>',
        "DOCTYPE",
    ),
    ("pas du XML", b"SIREN;VALEUR\n1;2", "bien formé"),
    ("autre racine", b'<racine xmlns="urn:x"/>', "racine"),
]


@pytest.mark.parametrize(("label", "data", "message"), BAD, ids=[b[0] for b in BAD])
def test_unsafe_or_unreadable_files_are_refused(dossier, declarant, label, data, message):  # noqa: F811
    with schema_context("dhup"), pytest.raises(XmlImportRefused) as caught:
        dossier_import_xml(dossier=dossier, data=data, acting_user=declarant)
    assert any(message in e for e in caught.value.report.errors)


def test_refusals_name_the_problem_and_change_nothing(dossier, declarant):  # noqa: F811
    with schema_context("dhup"):
        dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>5</ACT_IMMO>"), acting_user=declarant
        )
        before = Dossier.objects.get(pk=dossier.pk)
        cases = [
            (document("<ACT_IMMO>1</ACT_IMMO>", siren="552081317"), "n'est pas celui"),
            (doc_for(dossier, "<ACT_IMMO>1</ACT_IMMO>", exercice="2023"), "exercice 2023"),
            (
                doc_for(
                    dossier,
                    "<ACT_IMMO>1</ACT_IMMO>",
                    ns="urn:harmonia:formulaire:ER_SOCIAUX:7",
                    version_attr="7",
                ),
                "version 7",
            ),
            (doc_for(dossier, "<TOTAL_ACTIF>1</TOTAL_ACTIF>"), "aucun champ de saisie"),
            (doc_for(dossier, "<ACT_IMMO>douze</ACT_IMMO>"), "montant attendu"),
            (doc_for(dossier, "<ACT_IMMO>1.234</ACT_IMMO>"), "plus de 2 décimales"),
            (doc_for(dossier, "<INCONNU>1</INCONNU>"), "champ inconnu"),
            (doc_for(dossier, "<ACT_IMMO>1</ACT_IMMO><ACT_IMMO>2</ACT_IMMO>"), "plusieurs fois"),
            (b"<x/>" + b" " * (100 * 1024 * 1024), "dépasse 20 Mo"),
        ]
        for data, message in cases:
            with pytest.raises(XmlImportRefused) as caught:
                dossier_import_xml(dossier=dossier, data=data, acting_user=declarant)
            report = caught.value.report
            texts = report.errors + [f"{n} {r}" for n, r in report.unknown + report.invalid]
            assert any(message in t for t in texts), (message, texts)
            after = Dossier.objects.get(pk=dossier.pk)
            assert (after.values, after.revision) == (before.values, before.revision)


def test_xml_page_import_and_export(dossier, declarant, client_for, outsider, demo_user):  # noqa: F811
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{dossier.pk}/xml/"
    upload = SimpleUploadedFile("d.xml", doc_for(dossier, "<ACT_IMMO>12</ACT_IMMO>"))
    page = client.post(url, {"file": upload}).content.decode()
    assert "Import effectué" in page and "1 valeur appliquée" in page
    bad = SimpleUploadedFile("d.xml", doc_for(dossier, "<INCONNU>1</INCONNU>"))
    page = client.post(url, {"file": bad}).content.decode()
    assert "Fichier refusé" in page and "INCONNU" in page
    exported = client.get(f"/declarations/dossiers/{dossier.pk}/xml/export/")
    assert exported["Content-Disposition"].endswith('-v1.xml"')
    assert b"<ACT_IMMO>12.00</ACT_IMMO>" in exported.content
    assert client_for("dhup", outsider).get(url).status_code == 404
    assert client_for("oph", demo_user("oph", "organisme")).get(url).status_code == 404
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    export = f"/declarations/dossiers/{dossier.pk}/xml/export/"
    hidden = gestionnaire.get(export)  # step 2: the organism's own work
    assert hidden.status_code == 403 and b"ACT_IMMO" not in hidden.content
    transmit(dossier, declarant)
    assert gestionnaire.get(export).status_code == 200
    forbidden = gestionnaire.post(url, {"file": SimpleUploadedFile("d.xml", b"<x/>")})
    assert forbidden.status_code == 403


def test_import_reports_the_controls_after_it(dossier, declarant, demo_user):  # noqa: F811
    from forms_cms.controls import control_create

    gestionnaire = demo_user("dhup", "gestionnaire")
    with schema_context("dhup"):
        control_create(
            version=dossier.form_version,
            values={"code": "B1", "label": "Capital", "kind": "comparison",
                    "left": "PAS_CAPITAL", "operator": ">", "right": "0",
                    "severity": "blocking"},
            acting_user=gestionnaire,
        )  # fmt: skip
        report = dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<ACT_IMMO>1</ACT_IMMO>"), acting_user=declarant
        )
        assert report.blocking_failures == ["B1"]
        report = dossier_import_xml(
            dossier=dossier, data=doc_for(dossier, "<PAS_CAPITAL>5</PAS_CAPITAL>"),
            acting_user=declarant,
        )  # fmt: skip
        assert report.blocking_failures == []
