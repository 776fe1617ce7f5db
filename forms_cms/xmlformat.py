"""The harmonised XML format of a dossier: export, and import field by field.

The format and its XSD are described in docs/xml-format.md. Import rules: the file is read
with a parser that loads no DTD, resolves no entity and reaches no network; a DOCTYPE or an
ENTITY declaration refuses the file before parsing; the root must name this dossier's form
version, SIREN and exercise; the document must be valid against the version's XSD; then each
input field it carries overwrites the stored value (an empty element with xsi:nil clears it),
the others stay. Computed fields are ignored (and compared with the recomputation). A file
refused for any reason changes nothing.

Multivalued tables: ``<Filiales><ligne><FIL_NOM>…</FIL_NOM>…</ligne>…</Filiales>`` in
``champs``. A table in the file replaces all its rows (``<Filiales/>`` empties it), a table
absent from the file is left alone; calculated columns are ignored like computed fields. A
table with more rows than its cap, an unknown column or a wrong value in a row refuses the file,
naming the table, the row (from 1) and the column.
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
from forms_cms.fields import FieldInfo, TableMeta, version_fields, version_tables
from forms_cms.models import VersionFile
from forms_cms.services.runtime import compiled_form, table_rows_stored
from forms_cms.workbook.xsd import MAX_XML_BYTES, ROW_ELEMENT, XSI, form_namespace, xml_parser

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
MSG_TABLE_CAP = (
    "Le tableau « {table} » a {count} lignes dans le fichier ; il en admet {cap} au plus : "
    "retirez-en {extra} (aucune ligne n'a été importée)."
)
MSG_TABLE_CELL = "ligne {row}, colonne « {column} » : {reason}"
MSG_TABLE_UNKNOWN_COLUMN = (
    "ligne {row} : colonne « {column} » inconnue dans ce tableau (colonnes : {columns})"
)
MSG_TABLE_REPEATED_COLUMN = "ligne {row} : colonne « {column} » présente plusieurs fois"
MSG_TABLE_CONTENT = "seuls des éléments « ligne » sont attendus dans un tableau : {reason}"
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


def table_rows(dossier, name: str) -> list[dict]:
    """A table's stored rows in the dossier: the workbook's pre-filled rows while the table
    is absent from the values."""
    rows = dossier.values.get(name)
    if rows.__class__ is list:
        return rows
    return table_rows_stored(compiled_form(dossier.form_version), name)


def _table_element(parent, namespace: str, meta: TableMeta, rows, computed_rows) -> None:
    table = etree.SubElement(parent, f"{{{namespace}}}{meta.name}")
    if computed_rows.__class__ is not list:
        computed_rows = []
    for index, row in enumerate(rows):
        calculated = computed_rows[index] if index < len(computed_rows) else {}
        if not isinstance(calculated, dict):
            calculated = {}
        line = etree.SubElement(table, f"{{{namespace}}}{ROW_ELEMENT}")
        for column in meta.columns:
            value = (calculated if column.computed else row).get(column.name)
            text = value_text(column, value)
            if text is not None:
                etree.SubElement(line, f"{{{namespace}}}{column.name}").text = text


def dossier_xml(dossier) -> bytes:
    """The dossier in the harmonised format: every field that has a value, then every
    multivalued table with its rows (an empty table as an empty element)."""
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
    for name, meta in version_tables(version).items():
        rows = table_rows(dossier, name)
        _table_element(champs, namespace, meta, rows, dossier.computed.get(name))
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
    # comments and processing instructions carry no data (and are not elements: dropped)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
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


def import_plan(
    dossier, data: bytes, *, any_siren: bool = False
) -> tuple[ImportReport, dict[str, object], dict]:
    """Read and check a file for this dossier: the report, the input values to apply, and
    the computed values the file carried. Nothing is written. ``any_siren``: the file's SIREN
    is not checked (a software editor's check of a file against a form version, whatever
    organism it was made for)."""
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
    if not any_siren and root.get("siren") != dossier.organism.siren:
        report.errors.append(
            MSG_SIREN.format(siren=root.get("siren"), expected=dossier.organism.siren)
        )
    if root.get("exercice") != str(dossier.campaign.exercise):
        report.errors.append(
            MSG_EXERCISE.format(exercise=root.get("exercice"), expected=dossier.campaign.exercise)
        )
    if report.errors:
        return report, {}, {}
    tables = version_tables(version)
    # declaration > champs > field, or > table > ligne > column: nothing deeper (libxml2
    # itself stops at 256 levels)
    for part in root:
        for element in part:
            if not isinstance(element.tag, str):
                continue
            if etree.QName(element).localname in tables:
                too_deep = any(len(column) for line in element for column in line)
            else:
                too_deep = len(element) > 0
            if too_deep:
                report.errors.append(MSG_DEPTH)
                return report, {}, {}
    # a table over its cap: said plainly, before the schema (which would only say that a
    # « ligne » is not expected)
    for part in root:
        for element in part:
            meta = tables.get(_localname(element))
            count = len(element) if meta is not None else 0
            if meta is not None and count > meta.max_rows:
                report.errors.append(
                    MSG_TABLE_CAP.format(
                        table=meta.name, count=count, cap=meta.max_rows, extra=count - meta.max_rows
                    )
                )
    if report.errors:
        return report, {}, {}
    validator = version_validator(version)
    if not _validate(validator, root, tables, report):
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
        if name in tables:
            values[name], computed_rows = _table_rows_read(tables[name], element, report)
            if any(computed_rows):
                computed[name] = computed_rows
            continue
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


def _localname(element) -> str | None:
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _table_rows_read(meta: TableMeta, element, report: ImportReport):
    """A valid table element's rows: ([{input column: stored value}], [{calculated column:
    value}]); the calculated columns it carries are noted as ignored."""
    columns = {c.name: c for c in meta.columns}
    rows, computed_rows = [], []
    for line in element:
        if not isinstance(line.tag, str):
            continue
        row, calculated = {}, {}
        for cell in line:
            if not isinstance(cell.tag, str):
                continue
            info = columns[etree.QName(cell).localname]
            if cell.get(f"{{{XSI}}}nil") in ("true", "1"):
                continue
            value = _stored_value(info, cell.text or "")
            if info.computed:
                calculated[info.name] = value
                label = f"{meta.name}/{info.name}"
                if label not in report.computed_ignored:
                    report.computed_ignored.append(label)
            else:
                row[info.name] = value
        rows.append(row)
        computed_rows.append(calculated)
    return rows, computed_rows


def _validate(validator, root, tables: dict[str, TableMeta], report: ImportReport) -> bool:
    """Validate the document against the version's XSD; its errors go to ``report``, those
    inside a table named by table, row and column."""
    has_tables = any(_localname(e) in tables for part in root for e in part)
    checked, by_line = root, {}
    if has_tables:
        # one element per line, so that an error's line finds its element (a row, a column);
        # the copy has the same elements in the same order as the file
        copy = etree.fromstring(etree.tostring(root))
        etree.indent(copy)
        checked = etree.fromstring(etree.tostring(copy))
        by_line = {
            mine.sourceline: theirs
            for mine, theirs in zip(checked.iter(), root.iter(), strict=True)
            if isinstance(mine.tag, str)
        }
    if validator.validate(checked):
        return True
    for error in validator.error_log:
        element = by_line.get(error.line)
        line = element.sourceline if element is not None else error.line
        if element is not None and _table_error(element, error.message, tables, report):
            continue
        match = _ELEMENT_IN_ERROR.search(error.message)
        name = match[1] if match else f"ligne {line}"
        reason = _translate(error.message)
        if "inconnu" in reason:
            report.unknown.append((name, reason))
        elif name in ("declaration", "champs") or not match:
            report.errors.append(f"ligne {line} : {reason}")
        else:
            report.invalid.append((name, reason))
    if not report.refused:
        report.errors.append("Le fichier ne respecte pas le schéma XML de cette version.")
    return False


def _table_error(element, message: str, tables, report: ImportReport) -> bool:
    """Report a schema error on an element inside a table (the table, a row, a cell) by
    table, row and column; False when the element is not inside a table."""
    chain = [element]
    while chain[-1].getparent() is not None and len(chain) < 4:
        chain.append(chain[-1].getparent())
    names = [_localname(e) for e in chain]
    reason = _translate(message)
    if len(chain) >= 4 and names[3] == "champs" and names[2] in tables:  # a cell
        meta, line = tables[names[2]], chain[1]
        rows = [e for e in chain[2] if isinstance(e.tag, str)]
        row = rows.index(line) + 1
        known = {c.name: c for c in meta.columns}.get(names[0])
        if "inconnu" in reason or "not expected" in message:
            if known is not None:
                report.invalid.append(
                    (meta.name, MSG_TABLE_REPEATED_COLUMN.format(row=row, column=names[0]))
                )
            else:
                report.unknown.append(
                    (
                        meta.name,
                        MSG_TABLE_UNKNOWN_COLUMN.format(
                            row=row,
                            column=names[0],
                            columns=", ".join(c.name for c in meta.columns),
                        ),
                    )
                )
        else:
            shown = f"{known.label} ({known.name})" if known and known.label else names[0]
            report.invalid.append(
                (meta.name, MSG_TABLE_CELL.format(row=row, column=shown, reason=reason))
            )
        return True
    if len(chain) >= 3 and names[2] == "champs" and names[1] in tables:  # a row
        report.invalid.append((names[1], MSG_TABLE_CONTENT.format(reason=reason)))
        return True
    if len(chain) >= 2 and names[1] == "champs" and names[0] in tables:  # the table itself
        report.invalid.append((names[0], MSG_TABLE_CONTENT.format(reason=reason)))
        return True
    return False


def computed_differences(dossier, imported: dict, fields) -> list[tuple[str, object, object]]:
    """The computed values of the file that differ from the recomputation; a table's
    calculated columns cell by cell, named « TABLE ligne N COLONNE »."""
    out = []

    def compare(name, value, current):
        if isinstance(value, float) and isinstance(current, int | float):
            # an amount is written rounded to the cent: half a cent apart is the same
            # value, give or take the binary representation of large amounts
            if abs(value - current) > COMPUTED_TOLERANCE + 1e-12 * abs(current) + 1e-12:
                out.append((name, value, current))
        elif value != current:
            out.append((name, value, current))

    for name, value in imported.items():
        current = dossier.computed.get(name)
        if value.__class__ is list:
            current_rows = current if current.__class__ is list else []
            for index, row in enumerate(value):
                now = current_rows[index] if index < len(current_rows) else {}
                now = now if isinstance(now, dict) else {}
                for column, cell in row.items():
                    compare(f"{name} ligne {index + 1} {column}", cell, now.get(column))
        else:
            compare(name, value, current)
    return out
