"""The XSD of the harmonised XML format, one per form version (see docs/xml-format.md).

Design::

    <declaration xmlns="urn:harmonia:formulaire:ER:2024.1"
                 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                 formulaire="ER" version="2024.1" siren="123456789" exercice="2024">
      <champs>
        <CAPITAL>150000.00</CAPITAL>
        <TC_NB_LOGEMENTS>1200</TC_NB_LOGEMENTS>
        <COMMENTAIRE xsi:nil="true"/>   <!-- clears the value -->
      </champs>
    </declaration>

* namespace ``urn:harmonia:formulaire:{form_code}:{version}`` (target namespace, elements
  qualified, attributes unqualified): a document names the exact form version it was written
  for; the root's ``formulaire`` and ``version`` attributes are required and fixed;
* ``siren`` (9 digits) and ``exercice`` (an integer 2000-2100) are required attributes;
* ``champs`` holds the fields, in any order: a strict ``xs:any`` over this namespace's global
  elements, one declared per field and named by the field's defined name, each with its type.
  An unknown element is refused by the schema; a repeated one is refused by the import (the
  schema cannot say "at most once" this way). Why not ``xs:all`` (which can): libxml2 compiles
  and validates a 10,000-element ``xs:all`` in quadratic time, 2-3 s to compile and 1-2.5 s to
  validate a full ER document, against the import's 1 s budget; this design compiles in
  milliseconds and validates a full document in a few; the names ``declaration`` and
  ``champs`` are reserved (they are the format's own elements);
* types: amount → ``montant`` (``xs:decimal``, at most 2 decimals), integer → ``entier``
  (``xs:integer``), percentage → ``pourcentage`` (``xs:decimal``, a fraction as in Excel:
  0.125 is 12.5 %), date → ``date`` (``xs:date`` without time zone), text → ``texte``
  (``xs:string``, 2,000 characters at most), choice → ``choix_N`` (an enumeration of
  ``xs:token``: surrounding spaces do not matter); identical lists of choices share a type;
* every field element is ``nillable``: ``<X xsi:nil="true"/>`` clears the field's value on
  import (an absent element leaves the stored value alone);
* computed fields are declared too (an export carries them) but an import ignores them; the
  documentation of each element gives its label, its cell and these flags;
* a multivalued table (an Excel Table) is a global element named by the table, holding its
  rows in order: ``<Filiales><ligne><FIL_NOM>A</FIL_NOM><FIL_CAPITAL>10.00</FIL_CAPITAL>
  </ligne>…</Filiales>``; ``ligne`` occurs at most the table's cap (``MAX_LIGNES_<TABLE>``)
  times; its columns are local elements (an ``xs:all``: any order, each at most once, all
  optional, nillable, typed as single fields of the same data type), so a column name is
  refused directly in ``champs``. Calculated columns are declared (an export carries them),
  an import ignores them. A table's element replaces all its rows on import; ``<Filiales/>``
  empties it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from forms_cms.workbook.catalogue import COMPUTED, XML_NAME, FieldSpec

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACE_TEMPLATE = "urn:harmonia:formulaire:{form_code}:{version}"
TEXT_MAX_LENGTH = 2000
MAX_XML_BYTES = 20 * 1024 * 1024
_URN_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_BASE_TYPES = {
    "amount": "montant",
    "integer": "entier",
    "percentage": "pourcentage",
    "date": "date",
    "text": "texte",
}


ROW_ELEMENT = "ligne"
_RESERVED = ("declaration", "champs")


@dataclass
class TableSpec:
    """A multivalued table as the XSD needs it: its name, its cap and its columns in the
    sheet's order (catalogue fields with ``table`` set)."""

    name: str
    max_rows: int
    columns: list[FieldSpec] = field(default_factory=list)


def form_namespace(form_code: str, version: str) -> str:
    for part in (form_code, version):
        if not _URN_PART.match(part or ""):
            raise ValueError(f"code or version unusable in a namespace URN: {part!r}")
    return NAMESPACE_TEMPLATE.format(form_code=form_code, version=version)


def _xs(parent, tag: str, **attrs):
    return etree.SubElement(parent, f"{{{XS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def _documentation(parent, text: str) -> None:
    _xs(_xs(parent, "annotation"), "documentation").text = text


def _simple(schema, name: str, base: str, doc: str, **facets):
    simple = _xs(schema, "simpleType", name=name)
    _documentation(simple, doc)
    restriction = _xs(simple, "restriction", base=base)
    for facet, value in facets.items():
        _xs(restriction, facet, value=value)
    return restriction


def _check_names(names, seen: dict[str, str]) -> None:
    for name in names:
        if not XML_NAME.match(name):
            raise ValueError(f"field name is not an XML element name: {name!r}")
        if name.upper() in seen:
            raise ValueError(f"field names differ only by case: {seen[name.upper()]!r}")
        if name.lower() in _RESERVED:
            raise ValueError(f"field name reserved by the XML format: {name!r}")
        seen[name.upper()] = name


def xsd_build(
    fields: list[FieldSpec],
    *,
    form_code: str,
    version: str,
    tables: list[TableSpec] = (),
) -> bytes:
    """The XSD (UTF-8 bytes) of the harmonised XML format for one form version: its
    single-cell ``fields`` and its multivalued ``tables``."""
    namespace = form_namespace(form_code, version)
    seen: dict[str, str] = {}
    _check_names([spec.name for spec in fields] + [t.name for t in tables], seen)
    for table in tables:
        _check_names([c.name for c in table.columns], {})

    schema = etree.Element(
        f"{{{XS}}}schema",
        {
            "targetNamespace": namespace,
            "elementFormDefault": "qualified",
            "attributeFormDefault": "unqualified",
            "version": version,
        },
        nsmap={"xs": XS, "h": namespace},
    )
    _documentation(
        schema,
        f"Format XML harmonisé Harmonia : formulaire {form_code}, version {version}, "
        f"{len(fields)} champs"
        + (f", {len(tables)} tableaux" if tables else "")
        + ". Voir la documentation « Format XML harmonisé ».",
    )

    root = _xs(schema, "element", name="declaration")
    _documentation(root, "Déclaration d'un organisme (SIREN) pour un exercice.")
    root_type = _xs(root, "complexType")
    _xs(_xs(root_type, "sequence"), "element", name="champs", type="h:champs")
    _xs(root_type, "attribute", name="formulaire", type="xs:token", use="required", fixed=form_code)
    _xs(root_type, "attribute", name="version", type="xs:token", use="required", fixed=version)
    _xs(root_type, "attribute", name="siren", type="h:siren", use="required")
    _xs(root_type, "attribute", name="exercice", type="h:exercice", use="required")

    # ``champs`` holds any number of this namespace's global elements, each a field declared
    # below with its type: unknown elements are refused (strict), a field's value is typed.
    champs = _xs(schema, "complexType", name="champs")
    _xs(
        _xs(champs, "sequence"),
        "any",
        namespace="##targetNamespace",
        processContents="strict",
        minOccurs=0,
        maxOccurs="unbounded",
    )
    choice_types: dict[tuple[str, ...], str] = {}

    def type_of(spec: FieldSpec) -> str:
        if spec.data_type == "choice" and spec.choices:
            key = tuple(spec.choices)
            return "h:" + choice_types.setdefault(key, f"choix_{len(choice_types) + 1}")
        return "h:" + _BASE_TYPES.get(spec.data_type, "texte")

    for spec in fields:
        element = _xs(schema, "element", name=spec.name, type=type_of(spec), nillable="true")
        _documentation(element, _field_documentation(spec))
    for table in tables:
        element = _xs(schema, "element", name=table.name)
        _documentation(
            element,
            f"Tableau multivalué « {table.name} » : ses lignes dans l'ordre, "
            f"{table.max_rows} au plus. Présent à l'import, il remplace toutes les lignes du "
            "tableau (vide, il le vide) ; absent, il ne change rien.",
        )
        rows = _xs(_xs(element, "complexType"), "sequence")
        row = _xs(rows, "element", name=ROW_ELEMENT, minOccurs=0, maxOccurs=table.max_rows)
        columns = _xs(_xs(row, "complexType"), "all")
        for spec in table.columns:
            column = _xs(
                columns,
                "element",
                name=spec.name,
                type=type_of(spec),
                nillable="true",
                minOccurs=0,
            )
            _documentation(column, _field_documentation(spec))

    _simple(schema, "siren", "xs:string", "SIREN de l'organisme : 9 chiffres.", pattern="[0-9]{9}")
    _simple(
        schema,
        "exercice",
        "xs:integer",
        "Exercice déclaré (année).",
        minInclusive=2000,
        maxInclusive=2100,
    )
    _simple(
        schema,
        "montant",
        "xs:decimal",
        "Montant en euros, point décimal, au plus 2 décimales (ex. -1234.5).",
        fractionDigits=2,
    )
    _simple(schema, "entier", "xs:integer", "Nombre entier (ex. 1200).")
    _simple(
        schema,
        "pourcentage",
        "xs:decimal",
        "Pourcentage exprimé en fraction, comme dans Excel : 0.125 signifie 12,5 %.",
    )
    _simple(
        schema,
        "date",
        "xs:date",
        "Date AAAA-MM-JJ, sans fuseau horaire (ex. 2024-12-31).",
        pattern=r"\d{4}-\d{2}-\d{2}",
    )
    _simple(
        schema,
        "texte",
        "xs:string",
        f"Texte libre, {TEXT_MAX_LENGTH} caractères au plus.",
        maxLength=TEXT_MAX_LENGTH,
    )
    for choices, type_name in choice_types.items():
        restriction = _simple(schema, type_name, "xs:token", "Une des valeurs de la liste.")
        for choice in choices:
            _xs(restriction, "enumeration", value=choice)

    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _field_documentation(spec: FieldSpec) -> str:
    flags = []
    if spec.kind == COMPUTED:
        flags.append("calculé : ignoré à l'import")
    if spec.required:
        flags.append("obligatoire")
    if spec.common:
        flags.append("tronc commun")
    text = f"{spec.label or spec.name} ({spec.sheet}!{spec.cell})"
    return text + (f" [{', '.join(flags)}]" if flags else "")


def xml_parser() -> etree.XMLParser:
    """A parser for XSDs and instance documents: no entities, no network, no huge trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def xml_validator(xsd_bytes: bytes) -> etree.XMLSchema:
    """The compiled schema (build it once per form version: ~2-3 s for 10,000 fields)."""
    return etree.XMLSchema(etree.fromstring(xsd_bytes, xml_parser()))


def xml_errors(validator: etree.XMLSchema, data: bytes, *, max_bytes: int = MAX_XML_BYTES):
    """French messages for a document that is not valid against ``validator`` ([] if valid)."""
    if len(data) > max_bytes:
        size = max_bytes // (1024 * 1024)
        return [f"Le fichier XML dépasse la taille maximale de {size} Mo."]
    try:
        document = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        return [f"Le fichier n'est pas un XML bien formé (ligne {exc.lineno}) : {exc.msg}"]
    if document.getroottree().docinfo.doctype:
        return ["Le fichier XML contient une déclaration DOCTYPE, refusée : retirez-la."]
    try:
        if validator.validate(document):
            return []
    except etree.XMLSchemaValidateError as exc:
        return [f"Le fichier XML n'a pas pu être validé : {exc}"]
    return [f"ligne {error.line} : {error.message}" for error in validator.error_log]
