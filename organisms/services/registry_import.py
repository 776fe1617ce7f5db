"""Import or update the organisms registry from a CSV or XLSX file, all or nothing.

The file is read and every line checked first; if any line is wrong the report names each
one and nothing is written. Otherwise organisms are created or updated by SIREN, and
organisms absent from the file are left as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from harmonia.workbook_safety import (
    LIST_CAPS,
    WorkbookFileError,
    WorkbookUnreadable,
    workbook_file_check,
)
from wagtail.log_actions import log

from organisms.models import (
    DEFAULT_CLOSING,
    FEDERATION_CHOICES,
    Accounting,
    Family,
    Organism,
    RegistryImport,
    closing_error,
)
from organisms.siren import DEPARTEMENTS, normalize_departement, normalize_siren, siren_error
from tenants.security_events import upload_refused_record

# Accepted header spellings, compared without accents, case or spaces.
COLUMNS = {
    "siren": {"siren", "numerosiren", "nsiren"},
    "name": {"nom", "raisonsociale", "denomination", "name"},
    "family": {"famille", "family", "type"},
    "departement": {"departement", "dept", "dep", "codedepartement"},
    "active": {"actif", "active", "etat"},
    # optional: a column left out leaves the organisms' values as they are
    "accounting": {"regimecomptable", "comptabilite", "regime"},
    "closing": {"cloture", "datedecloture", "dateclotureexercice", "clotureexercice"},
    "federation": {"federation"},
}
OPTIONAL_FIELDS = ("accounting", "closing", "federation")
REQUIRED_COLUMNS = ("siren", "name", "family", "departement")
COLUMN_LABELS = {
    "siren": "SIREN",
    "name": "Raison sociale",
    "family": "Famille",
    "departement": "Département",
    "active": "Actif",
    "accounting": "Régime comptable",
    "closing": "Clôture",
    "federation": "Fédération",
}
ACCOUNTING_ALIASES = {
    "publique": Accounting.PUBLIQUE,
    "comptabilitepublique": Accounting.PUBLIQUE,
    "commerce": Accounting.COMMERCE,
    "comptabilitedecommerce": Accounting.COMMERCE,
    "commerciale": Accounting.COMMERCE,
    "comptabilitecommerciale": Accounting.COMMERCE,
}
FEDERATION_ALIASES = {_code: _code for _code, _ in FEDERATION_CHOICES} | {
    "fedoph": "oph",
    "federationdesoph": "oph",
    "fedesh": "esh",
    "federationdesesh": "esh",
    "cooperatives": "coop",
    "federationdescooperativeshlm": "coop",
    "sem": "epl",
    "fedepl": "epl",
    "federationdesepl": "epl",
}
# Keys compared without accents, case, spaces or punctuation ("EPL / SEM" -> "eplsem").
FAMILY_ALIASES = {
    "oph": Family.OPH,
    "esh": Family.ESH,
    "sahlm": Family.ESH,
    "coop": Family.COOP,
    "cooperative": Family.COOP,
    "cooperativehlm": Family.COOP,
    "epl": Family.EPL,
    "sem": Family.EPL,
    "eplsem": Family.EPL,
    "moi": Family.MOI,
    "sac": Family.SAC,
    "saccoordination": Family.SAC,
    "groupe": Family.GROUPE,
}
TRUE_WORDS = {"1", "oui", "o", "vrai", "true", "yes", "actif", "x"}
FALSE_WORDS = {"0", "non", "n", "faux", "false", "no", "inactif"}
FAMILIES_HELP = ", ".join(sorted({"OPH", "ESH", "COOP", "EPL", "SEM", "MOI", "SAC", "GROUPE"}))

MSG_TOO_LARGE = "Le fichier dépasse {limit} Mo : scindez-le ou retirez les colonnes inutiles."
MSG_UNKNOWN_TYPE = (
    "Format de fichier non reconnu : déposez un fichier CSV (séparateur « ; » ou « , ») "
    "ou un classeur Excel .xlsx."
)
MSG_BAD_XLSX = "Le classeur Excel est illisible ou endommagé ; enregistrez-le à nouveau en .xlsx."
MSG_BAD_ENCODING = "Le fichier CSV n'est ni en UTF-8 ni en Windows-1252 ; enregistrez-le en UTF-8."
MSG_EMPTY = "Le fichier ne contient aucune ligne d'organisme."
MSG_BAD_CSV = (
    "Le fichier CSV est illisible (guillemet non refermé ou cellule trop longue) : "
    "vérifiez-le puis enregistrez-le à nouveau en CSV."
)
MSG_CSV_TOO_LONG = (
    "Le fichier CSV compte plus de {limit} lignes : le référentiel en a bien moins ; "
    "vérifiez qu'il s'agit du bon fichier ou scindez-le."
)
MSG_CSV_TOO_WIDE = (
    "La ligne {line} du fichier CSV compte {count} colonnes, au-delà de {limit} : vérifiez le "
    "séparateur (« ; » ou « , ») et retirez les colonnes inutiles."
)
MSG_MISSING_COLUMNS = "Colonnes obligatoires absentes de la ligne d'en-tête : {columns}."


class RegistryFileError(Exception):
    """The file as a whole cannot be read (type, size, encoding, header)."""


@dataclass
class RegistryRow:
    line: int
    siren: str
    name: str
    family: str
    departement: str
    is_active: bool
    # the optional columns the file has (accounting, closing, federation): their values
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class RegistryReport:
    file_name: str
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _plain(text: object) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).lower()


def _read_table(content: bytes, file_name: str) -> list[list[object]]:
    if len(content) > settings.HARMONIA_REGISTRY_MAX_BYTES:
        raise RegistryFileError(
            MSG_TOO_LARGE.format(limit=settings.HARMONIA_REGISTRY_MAX_BYTES // (1024 * 1024))
        )
    lower = file_name.lower()
    if content[:4] == b"PK\x03\x04" or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content, file_name)
    if lower.endswith((".csv", ".txt")):
        return _read_csv(content)
    raise RegistryFileError(MSG_UNKNOWN_TYPE)


# What a damaged workbook raises: not a zip, a missing part, or broken XML inside the zip
# (ElementTree's and lxml's parse errors both derive from SyntaxError), no worksheet.
XLSX_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, IndexError)


def _read_xlsx(content: bytes, file_name: str) -> list[list[object]]:
    """The first sheet's rows, after the upload guard measured its real extent (read-only
    openpyxl would otherwise pad every row to the sheet's declared dimension)."""
    from openpyxl import load_workbook

    try:
        extent = workbook_file_check(
            content,
            file_name,
            max_upload_bytes=settings.HARMONIA_REGISTRY_MAX_BYTES,
            extent_caps=LIST_CAPS,
        )
    except WorkbookUnreadable as exc:
        raise RegistryFileError(MSG_BAD_XLSX) from exc
    except WorkbookFileError as exc:  # macros, links, extent: the guard's own message
        upload_refused_record(exc, filename=file_name, what="Répertoire des organismes")
        raise RegistryFileError(exc.message) from exc
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise RegistryFileError(MSG_BAD_XLSX) from exc
    try:
        sheet = workbook.worksheets[0]
        measured = extent.sheet(sheet.title)
        if measured is None or measured.cells == 0:
            return []
        rows = sheet.iter_rows(max_row=measured.max_row, max_col=measured.max_col, values_only=True)
        return [list(row) for row in rows]
    except XLSX_ERRORS as exc:  # the sheet itself is read lazily, row by row
        raise RegistryFileError(MSG_BAD_XLSX) from exc
    finally:
        workbook.close()


def _read_csv(content: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise RegistryFileError(MSG_BAD_ENCODING)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    rows: list[list[object]] = []
    filled = 0  # blank lines are skipped by the import: only the others count
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if row:
                filled += 1
            if filled > LIST_CAPS.max_rows:
                raise RegistryFileError(
                    MSG_CSV_TOO_LONG.format(limit=f"{LIST_CAPS.max_rows:,}".replace(",", "\u202f"))
                )
            if len(row) > LIST_CAPS.max_columns:
                raise RegistryFileError(
                    MSG_CSV_TOO_WIDE.format(
                        line=len(rows) + 1, count=len(row), limit=LIST_CAPS.max_columns
                    )
                )
            rows.append(row)
        return rows
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit(), an unclosed quote
        raise RegistryFileError(MSG_BAD_CSV) from exc


def _header_map(header: list[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        plain = _plain(cell)
        for key, spellings in COLUMNS.items():
            if plain in spellings and key not in found:
                found[key] = index
    missing = [COLUMN_LABELS[key] for key in REQUIRED_COLUMNS if key not in found]
    if missing:
        raise RegistryFileError(MSG_MISSING_COLUMNS.format(columns=", ".join(missing)))
    return found


def registry_file_parse(content: bytes, file_name: str) -> tuple[list[RegistryRow], RegistryReport]:
    """Read and check every line. Raises RegistryFileError when the file itself is unusable."""
    table = _read_table(content, file_name)
    report = RegistryReport(file_name=file_name)
    blank_above = 0  # blank rows above the header still count in the line numbers
    while table and not any(str(c or "").strip() for c in table[0]):
        table.pop(0)
        blank_above += 1
    if not table:
        raise RegistryFileError(MSG_EMPTY)
    columns = _header_map(table[0])
    rows: list[RegistryRow] = []
    first_line_of: dict[str, int] = {}

    def cell(values: list[object], key: str) -> object:
        index = columns.get(key)
        return values[index] if index is not None and index < len(values) else None

    for line, values in enumerate(table[1:], start=2 + blank_above):
        if not any(str(c if c is not None else "").strip() for c in values):
            continue
        problems = []
        siren = normalize_siren(cell(values, "siren"))
        if error := siren_error(siren):
            problems.append(error)
        elif siren in first_line_of:
            problems.append(f"SIREN {siren} en double : déjà présent ligne {first_line_of[siren]}.")
        else:
            first_line_of[siren] = line
        name = str(cell(values, "name") or "").strip()
        if not name:
            problems.append("Raison sociale manquante.")
        elif len(name) > 255:
            problems.append("Raison sociale trop longue (255 caractères au plus).")
        raw_family = str(cell(values, "family") or "").strip()
        family = FAMILY_ALIASES.get(_plain(raw_family))
        if family is None:
            problems.append(
                f"Famille « {raw_family} » inconnue : indiquez l'une de {FAMILIES_HELP}."
            )
        departement = normalize_departement(cell(values, "departement"))
        if departement not in DEPARTEMENTS:
            problems.append(
                f"Département « {departement} » inconnu : indiquez un code comme 01, 2A ou 974."
            )
        # No Actif column, or an empty cell (None in a workbook), means active.
        active_cell = cell(values, "active")
        raw_active = str(active_cell if active_cell is not None else "").strip().lower()
        if raw_active in TRUE_WORDS or raw_active == "":
            is_active = True
        elif raw_active in FALSE_WORDS:
            is_active = False
        else:
            is_active = True
            problems.append(f"Valeur « {raw_active} » de la colonne Actif : indiquez oui ou non.")
        extra = {}
        if "accounting" in columns:
            raw, extra["accounting"] = _aliased(cell(values, "accounting"), ACCOUNTING_ALIASES)
            if raw and not extra["accounting"]:
                problems.append(
                    f"Régime comptable « {raw} » inconnu : indiquez « publique » ou « commerce »."
                )
            elif extra["accounting"] and family not in (None, Family.OPH):
                problems.append(
                    f"Régime comptable « {raw} » : seuls les OPH en ont un ; laissez la cellule "
                    "vide pour les autres familles."
                )
        if "closing" in columns:
            extra["closing"] = _closing(cell(values, "closing"))
            if error := closing_error(extra["closing"]):
                problems.append(error)
        if "federation" in columns:
            raw, extra["federation"] = _aliased(cell(values, "federation"), FEDERATION_ALIASES)
            if raw and not extra["federation"]:
                problems.append(
                    f"Fédération « {raw} » inconnue : indiquez OPH, ESH, COOP ou EPL, ou laissez "
                    "la cellule vide."
                )
        if problems:
            report.errors.extend((line, problem) for problem in problems)
        else:
            rows.append(RegistryRow(line, siren, name, family, departement, is_active, extra))
    if not rows and not report.errors:
        raise RegistryFileError(MSG_EMPTY)
    return rows, report


def _aliased(value: object, aliases: dict[str, str]) -> tuple[str, str]:
    """(the cell's text, the code it spells or "" — also for an empty cell)."""
    raw = str(value or "").strip()
    return raw, aliases.get(_plain(raw), "") if raw else ""


def _closing(value: object) -> str:
    """« jj/mm » from a cell: 31/12, 31/12/2024, 31-12, or a date of a workbook; empty: 31/12."""
    if isinstance(value, dt.date | dt.datetime):
        return f"{value.day:02d}/{value.month:02d}"
    text = str(value or "").strip().replace("-", "/").replace(".", "/")
    if not text:
        return DEFAULT_CLOSING
    parts = text.split("/")
    if len(parts) >= 2 and all(p.strip().isdigit() for p in parts[:2]):
        return f"{int(parts[0]):02d}/{int(parts[1]):02d}"
    return text


def organisms_import(*, content: bytes, file_name: str, acting_user) -> RegistryReport:
    """Check the whole file, then create or update every organism in one transaction."""
    rows, report = registry_file_parse(content, file_name)
    if not report.ok:
        return report
    with transaction.atomic():
        existing = {
            o.siren: o
            for o in Organism.objects.select_for_update().filter(siren__in=[r.siren for r in rows])
        }
        to_create, to_update = [], []
        for row in rows:
            organism = existing.get(row.siren)
            wanted = {
                "name": row.name,
                "family": row.family,
                "departement": row.departement,
                "is_active": row.is_active,
                **row.extra,
            }
            if row.family != Family.OPH:
                wanted["accounting"] = ""  # an accounting regime is an OPH's alone
            if organism is None:
                to_create.append(Organism(siren=row.siren, **wanted))
            elif any(getattr(organism, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(organism, key, value)
                organism.updated_at = timezone.now()
                to_update.append(organism)
        Organism.objects.bulk_create(to_create, batch_size=500)
        Organism.objects.bulk_update(
            to_update,
            ["name", "family", "departement", "is_active", *OPTIONAL_FIELDS, "updated_at"],
            batch_size=500,
        )
        report.created = len(to_create)
        report.updated = len(to_update)
        report.unchanged = len(rows) - len(to_create) - len(to_update)
        report.applied = True
        applied = RegistryImport.objects.create(
            file_name=file_name[:255],
            imported_by=acting_user,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        )
        log(
            instance=applied,
            action="harmonia.registry_imported",
            user=acting_user,
            data={
                "file_name": applied.file_name,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report
