"""The XSD of the harmonised XML format: one per form version, validating instances."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from forms_cms.workbook.catalogue import FieldSpec
from forms_cms.workbook.xsd import form_namespace, xml_errors, xml_validator, xsd_build

NS = "urn:harmonia:formulaire:ER:2024.1"


def spec(name, data_type="amount", *, kind="input", choices=(), cell="B2", **extra) -> FieldSpec:
    return FieldSpec(
        name=name,
        sheet="Bilan",
        cell=cell,
        row=2,
        column=2,
        kind=kind,
        data_type=data_type,
        choices=list(choices),
        **extra,
    )


FIELDS = [
    spec("CAPITAL", "amount", label="Capital — Exercice N"),
    spec("NB_LOGEMENTS", "integer"),
    spec("TAUX_VACANCE", "percentage"),
    spec("DATE_CLOTURE", "date"),
    spec("COMMENTAIRE", "text"),
    spec("TC_FAMILLE", "choice", choices=["OPH", "ESH", "Coopérative"], common=True),
    spec("REPONSE", "choice", choices=["Oui", "Non"], required=True),
    spec("REPONSE_2", "choice", choices=["Oui", "Non"]),
    spec("TOTAL", "amount", kind="computed", formula="=CAPITAL*2"),
    spec("section.sous_total", "amount"),
]


@pytest.fixture(scope="module")
def validator():
    return xml_validator(xsd_build(FIELDS, form_code="ER", version="2024.1"))


def document(champs: str, *, siren="123456789", exercice="2024", version="2024.1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<declaration xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'formulaire="ER" version="{version}" siren="{siren}" exercice="{exercice}">'
        f"<champs>{champs}</champs></declaration>"
    ).encode()


GOOD = (
    "<TC_FAMILLE> Coopérative </TC_FAMILLE>"
    "<CAPITAL>-150000.5</CAPITAL>"
    "<NB_LOGEMENTS>1200</NB_LOGEMENTS>"
    "<TAUX_VACANCE>0.0375</TAUX_VACANCE>"
    "<DATE_CLOTURE>2024-12-31</DATE_CLOTURE>"
    "<COMMENTAIRE>Texte &amp; accents : éàü</COMMENTAIRE>"
    "<REPONSE>Oui</REPONSE>"
    '<REPONSE_2 xsi:nil="true"/>'
    "<TOTAL>12.00</TOTAL>"
    "<section.sous_total>1</section.sous_total>"
)


def test_a_good_document_is_valid(validator):
    assert xml_errors(validator, document(GOOD)) == []
    assert xml_errors(validator, document("")) == []  # no field at all: nothing to import


@pytest.mark.parametrize(
    ("champs", "expected"),
    [
        ("<CAPITAL>12.345</CAPITAL>", "fractionDigits"),
        ("<CAPITAL>1 000</CAPITAL>", "CAPITAL"),
        ("<CAPITAL>12,5</CAPITAL>", "CAPITAL"),
        ("<CAPITAL></CAPITAL>", "CAPITAL"),
        ("<NB_LOGEMENTS>12.5</NB_LOGEMENTS>", "NB_LOGEMENTS"),
        ("<TAUX_VACANCE>12 %</TAUX_VACANCE>", "TAUX_VACANCE"),
        ("<DATE_CLOTURE>31/12/2024</DATE_CLOTURE>", "DATE_CLOTURE"),
        ("<DATE_CLOTURE>2024-12-31Z</DATE_CLOTURE>", "DATE_CLOTURE"),
        ("<COMMENTAIRE>" + "x" * 2001 + "</COMMENTAIRE>", "COMMENTAIRE"),
        ("<REPONSE>Peut-être</REPONSE>", "enumeration"),
        ("<TC_FAMILLE>oph</TC_FAMILLE>", "enumeration"),
        ("<INCONNU>1</INCONNU>", "INCONNU"),
        ("<capital>1</capital>", "capital"),
    ],
)
def test_bad_documents_are_rejected(validator, champs, expected):
    errors = xml_errors(validator, document(champs))
    assert errors
    assert errors[0].startswith("ligne 2 : ")
    assert expected in " ".join(errors)


@pytest.mark.parametrize(
    "doc",
    [
        document("", siren="12345678"),
        document("", siren="12345678A"),
        document("", exercice="1999"),
        document("", version="2023.1"),
        document("").replace(b'formulaire="ER"', b""),
        document("").replace(NS.encode(), b"urn:autre"),
    ],
)
def test_bad_root_attributes_or_namespace(validator, doc):
    assert xml_errors(validator, doc)


def test_malformed_and_oversized_documents(validator):
    (error,) = xml_errors(validator, b"<declaration><champs></declaration>")
    assert error.startswith("Le fichier n'est pas un XML bien formé (ligne 1)")
    (error,) = xml_errors(validator, document(GOOD), max_bytes=100)
    assert error == "Le fichier XML dépasse la taille maximale de 0 Mo."


def test_entities_are_not_expanded(validator):
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + document("<COMMENTAIRE>&e;</COMMENTAIRE>").split(b"?>", 1)[1]
    )
    assert xml_errors(validator, doc) == [
        "Le fichier XML contient une déclaration DOCTYPE, refusée : retirez-la."
    ]


def test_schema_content(validator):
    xsd = xsd_build(FIELDS, form_code="ER", version="2024.1")
    root = etree.fromstring(xsd)
    assert root.get("targetNamespace") == NS
    assert root.get("elementFormDefault") == "qualified"
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    wildcard = root.find("xs:complexType[@name='champs']/xs:sequence/xs:any", xs)
    assert wildcard.get("processContents") == "strict"
    assert wildcard.get("namespace") == "##targetNamespace"
    elements = [e for e in root.findall("xs:element", xs) if e.get("name") != "declaration"]
    assert [e.get("name") for e in elements] == [f.name for f in FIELDS]
    assert {e.get("nillable") for e in elements} == {"true"}
    types = {e.get("name"): e.get("type") for e in elements}
    assert types["CAPITAL"] == "h:montant"
    assert types["REPONSE"] == types["REPONSE_2"] == "h:choix_2"
    docs = {
        e.get("name"): e.findtext("xs:annotation/xs:documentation", namespaces=xs) for e in elements
    }
    assert docs["CAPITAL"] == "Capital — Exercice N (Bilan!B2)"
    assert docs["TOTAL"] == "TOTAL (Bilan!B2) [calculé : ignoré à l'import]"
    assert docs["TC_FAMILLE"].endswith("[tronc commun]")


def test_field_names_of_the_format_itself_are_refused():
    with pytest.raises(ValueError, match="reserved"):
        xsd_build(
            [FieldSpec(name="champs", sheet="S", cell="A1", row=1, column=1)],
            form_code="ER",
            version="1",
        )


def test_build_refuses_unusable_names_and_codes():
    with pytest.raises(ValueError, match="XML element name"):
        xsd_build([spec("été")], form_code="ER", version="1")
    with pytest.raises(ValueError, match="case"):
        xsd_build([spec("A"), spec("a")], form_code="ER", version="1")
    with pytest.raises(ValueError, match="namespace"):
        form_namespace("E R", "1")


def test_ten_thousand_fields(capsys):
    """The ER has ~10,000 fields: time the schema and a document carrying all of them."""
    kinds = ["amount", "integer", "percentage", "date", "text", "choice"]
    fields = [
        spec(f"F{i:05d}", kinds[i % 6], choices=["Oui", "Non"] if i % 6 == 5 else ())
        for i in range(10_000)
    ]
    values = {
        "amount": "1234.56",
        "integer": "12",
        "percentage": "0.125",
        "date": "2024-12-31",
        "text": "abc",
        "choice": "Oui",
    }
    started = time.perf_counter()
    xsd = xsd_build(fields, form_code="ER", version="2024.1")
    built = time.perf_counter()
    schema = xml_validator(xsd)
    compiled = time.perf_counter()
    champs = "".join(f"<{f.name}>{values[f.data_type]}</{f.name}>" for f in reversed(fields))
    errors = xml_errors(schema, document(champs))
    validated = time.perf_counter()
    assert errors == []
    with capsys.disabled():
        print(
            f"\n10,000 fields: XSD {len(xsd) / 1e6:.1f} MB built in {built - started:.2f} s, "
            f"compiled in {compiled - built:.2f} s, full document validated in "
            f"{validated - compiled:.2f} s"
        )
