"""The harmonised XML format of a dossier: export, and import field by field.

The format and its XSD are described in docs/xml-format.md. Import rules: the file is read
with a parser that loads no DTD, resolves no entity and reaches no network; a DOCTYPE or an
ENTITY declaration refuses the file before parsing; the root must name this dossier's form
version, SIREN and exercise; the document must be valid against the version's XSD; then each
input field it carries overwrites the stored value (an empty element with xsi:nil clears it),
the others stay. Computed fields are ignored (and compared with the recomputation). A file
refused for any reason changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from lxml import etree

from forms_cms.engine import date_to_serial, serial_to_ymd
from forms_cms.fields import FieldInfo, version_fields
from forms_cms.models import VersionFile
from forms_cms.workbook.xsd import MAX_XML_BYTES, XSI, form_namespace, xml_parser

NAMESPACE_RE = re.compile(r"^urn:harmonia:formulaire:([^:]+):([^:]+)$")
_ELEMENT_IN_ERROR = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
COMPUTED_TOLERANCE = 0.005

MSG_TOO_BIG = "Le fichier dépasse {mb} Mo : importez-le en plusieurs fichiers."
MSG_DOCTYPE = (
    "Le fichier contient une déclaration DOCTYPE ou ENTITY, refusée pour des raisons de "
    "sécurité : retirez-la (le format harmonisé n'en utilise pas)."
)
MSG_SYNTAX = "Le fichier n'est pas un XML bien formé (ligne {line}) : {message}"
MSG_ROOT = "L'élément racine doit être « declaration » du format harmonisé Harmonia."
MSG_OTHER_FORM = (
    "Ce fichier est écrit pour le formulaire {code} version {version} ; ce dossier utilise le "
    "formulaire {expected_code} version {expected_version} : exportez le fichier dans cette "
    "version (son XSD est dans Formulaires)."
)
MSG_SIREN = (
    "Le SIREN du fichier ({siren}) n'est pas celui de l'organisme du dossier ({expected}) : "
    "vérifiez que vous importez le bon fichier."
)
MSG_EXERCISE = (
    "Le fichier déclare l'exercice {exercise} ; ce dossier est celui de l'exercice {expected}."
)
MSG_DEPTH = "Le fichier est trop profondément imbriqué pour être une déclaration."
MSG_REPEATED = "champ présent plusieurs fois dans le fichier"
MSG_NOTHING = (
    "Le fichier ne contient aucun champ de saisie (seulement des champs calculés ou aucun "
    "champ) : rien n'a été importé."
)


@dataclass
class ImportReport:
    applied: list[tuple[str, object, object]] = field(default_factory=list)  # name, old, new
    unchanged: list[str] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    computed_ignored: list[str] = field(default_factory=list)
    computed_differences: list[tuple[str, object, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems of the file as a whole
    blocking_failures: list[str] = field(default_factory=list)  # control codes, after import
    warnings: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors or self.unknown or self.invalid)


class XmlImportRefused(Exception):
    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__("; ".join(report.errors) or "fichier refusé")


# ---------------------------------------------------------------------------------------------
# export


def _number_text(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def value_text(info: FieldInfo, value) -> str | None:
    """A stored value as the XSD types it, or None when it cannot be written (an error, or a
    computed value that does not fit the field's type)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return None
    if info.data_type in ("amount", "integer", "percentage", "date"):
        if not isinstance(value, int | float):
            return None
        if info.data_type == "amount":
            return _number_text(round(value, 2), 2)
        if info.data_type == "integer":
            return str(round(value))
        if info.data_type == "percentage":
            return _number_text(value, None)
        try:
            year, month, day = serial_to_ymd(value)
            return dt.date(year, month, day).isoformat()
        except (ValueError, OverflowError):
            return None
    text = str(value)
    if info.data_type == "choice" and text not in info.choices:
        return None
    return text


def dossier_xml(dossier) -> bytes:
    """The dossier in the harmonised format: every field that has a value."""
    version = dossier.form_version
    code, number = version.document_type.code, str(version.number)
    namespace = form_namespace(code, number)
    root = etree.Element(
        f"{{{namespace}}}declaration",
        {
            "formulaire": code,
            "version": number,
            "siren": dossier.organism.siren,
            "exercice": str(dossier.campaign.exercise),
        },
        nsmap={None: namespace},
    )
    champs = etree.SubElement(root, f"{{{namespace}}}champs")
    for name, info in version_fields(version).items():
        value = (dossier.computed if info.computed else dossier.values).get(name)
        text = value_text(info, value)
        if text is not None:
            etree.SubElement(champs, f"{{{namespace}}}{name}").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---------------------------------------------------------------------------------------------
# import


@lru_cache(maxsize=16)
def _validator(schema: str, version_id: int) -> etree.XMLSchema:
    content = VersionFile.objects.values_list("content", flat=True).get(
        version_id=version_id, kind=VersionFile.Kind.XSD
    )
    return etree.XMLSchema(etree.fromstring(bytes(content), xml_parser()))


def version_validator(version) -> etree.XMLSchema:
    return _validator(connection.schema_name, version.pk)


def _stored_value(info: FieldInfo, text: str):
    text = text.strip()
    if info.data_type in ("amount", "percentage"):
        return float(Decimal(text))
    if info.data_type == "integer":
        return float(int(text))
    if info.data_type == "date":
        return float(date_to_serial(dt.date.fromisoformat(text[:10])))
    return text


_TYPE_MESSAGES = {
    "montant": "montant attendu (chiffres, point décimal, 2 décimales au plus, ex. 1234.56)",
    "entier": "nombre entier attendu (ex. 1200)",
    "pourcentage": "pourcentage attendu, en fraction (0.125 pour 12,5 %)",
    "date": "date attendue au format AAAA-MM-JJ",
    "texte": "texte trop long (2 000 caractères au plus)",
}
_ATOMIC_TYPE = re.compile(r"atomic type '(?:\{[^}]*\})?([^']+)'")


def _translate(message: str) -> str:
    """libxml2's schema messages, said in French."""
    if "fractional digits" in message or "fractionDigits" in message:
        return "plus de 2 décimales pour un montant"
    if "No matching global element declaration" in message or "not expected" in message:
        return "champ inconnu dans cette version du formulaire"
    if "enumeration" in message or "choix_" in message:
        return "valeur hors de la liste des choix"
    if match := _ATOMIC_TYPE.search(message):
        kind = match[1]
        if kind in _TYPE_MESSAGES:
            return _TYPE_MESSAGES[kind]
        if kind.startswith("choix_"):
            return "valeur hors de la liste des choix"
    if "length" in message:
        return _TYPE_MESSAGES["texte"]
    return "valeur refusée par le schéma : " + message


def parse_safely(data: bytes, report: ImportReport):
    """The document's root, or None with the reason in ``report.errors``."""
    if len(data) > MAX_XML_BYTES:
        report.errors.append(MSG_TOO_BIG.format(mb=MAX_XML_BYTES // (1024 * 1024)))
        return None
    head = data[:65536].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        report.errors.append(MSG_DOCTYPE)
        return None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        report.errors.append(MSG_SYNTAX.format(line=exc.lineno, message=exc.msg))
        return None
    if root.getroottree().docinfo.doctype:
        report.errors.append(MSG_DOCTYPE)
        return None
    return root


def import_plan(dossier, data: bytes) -> tuple[ImportReport, dict[str, object], dict]:
    """Read and check a file for this dossier: the report, the input values to apply, and
    the computed values the file carried. Nothing is written."""
    report = ImportReport()
    root = parse_safely(data, report)
    if root is None:
        return report, {}, {}
    version = dossier.form_version
    code, number = version.document_type.code, str(version.number)
    namespace = form_namespace(code, number)
    qname = etree.QName(root)
    if qname.localname != "declaration":
        report.errors.append(MSG_ROOT)
        return report, {}, {}
    if qname.namespace != namespace:
        match = NAMESPACE_RE.match(qname.namespace or "")
        if match is None:
            report.errors.append(MSG_ROOT)
        else:
            report.errors.append(
                MSG_OTHER_FORM.format(
                    code=match[1], version=match[2], expected_code=code, expected_version=number
                )
            )
        return report, {}, {}
    if root.get("siren") != dossier.organism.siren:
        report.errors.append(
            MSG_SIREN.format(siren=root.get("siren"), expected=dossier.organism.siren)
        )
    if root.get("exercice") != str(dossier.campaign.exercise):
        report.errors.append(
            MSG_EXERCISE.format(exercise=root.get("exercice"), expected=dossier.campaign.exercise)
        )
    if report.errors:
        return report, {}, {}
    # declaration > champs > field: nothing deeper (libxml2 itself stops at 256 levels)
    if any(len(field_element) for part in root for field_element in part):
        report.errors.append(MSG_DEPTH)
        return report, {}, {}
    validator = version_validator(version)
    if not validator.validate(root):
        for error in validator.error_log:
            match = _ELEMENT_IN_ERROR.search(error.message)
            name = match[1] if match else f"ligne {error.line}"
            reason = _translate(error.message)
            if "inconnu" in reason:
                report.unknown.append((name, reason))
            elif name in ("declaration", "champs") or not match:
                report.errors.append(f"ligne {error.line} : {reason}")
            else:
                report.invalid.append((name, reason))
        if not report.refused:
            report.errors.append("Le fichier ne respecte pas le schéma XML de cette version.")
        return report, {}, {}
    fields = version_fields(version)
    champs = root.find(f"{{{namespace}}}champs")
    counts: dict[str, int] = {}
    for element in champs:
        counts[etree.QName(element).localname] = counts.get(etree.QName(element).localname, 0) + 1
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        report.invalid.extend((name, MSG_REPEATED) for name in repeated)
        return report, {}, {}
    values, computed = {}, {}
    for element in champs:
        name = etree.QName(element).localname
        info = fields[name]
        nil = element.get(f"{{{XSI}}}nil") in ("true", "1")
        value = None if nil else _stored_value(info, element.text or "")
        if info.computed:
            report.computed_ignored.append(name)
            computed[name] = value
        else:
            values[name] = value
    if not values:
        report.errors.append(MSG_NOTHING)
    return report, values, computed


def computed_differences(dossier, imported: dict, fields) -> list[tuple[str, object, object]]:
    out = []
    for name, value in imported.items():
        current = dossier.computed.get(name)
        if isinstance(value, float) and isinstance(current, int | float):
            if abs(value - current) > COMPUTED_TOLERANCE:
                out.append((name, value, current))
        elif value != current:
            out.append((name, value, current))
    return out
