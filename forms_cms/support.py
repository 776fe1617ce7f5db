"""The dossier as its Excel support, and a filled support read back for import.

Download (:func:`dossier_support`): the form version's source workbook with every named input
cell and every multivalued table filled with the dossier's values (see
``forms_cms.workbook.filled``); formulas stay, so Excel and LibreOffice recompute the figures
the platform shows. A hidden defined name marks the form version, exercise and SIREN.

Import (:func:`support_import_plan`), the workbook twin of ``xmlformat.import_plan``: it returns
the same ``(report, values, computed)`` and the caller applies them through the same service.
The file is checked before any parse (size, zip extent, DOCTYPE, macros, links, OLE and
ActiveX, each sheet's real extent: ``workbook_file_check``), and
refused, with nothing applied, when it carries macros or links to other workbooks, when it is
the support of another form or version (its marker, or its sheets and defined names for a
support downloaded from Formulaires and filled by hand), when a sheet, a name or a table is
missing, when a formula was typed over an input cell, when a computed cell's formula was
replaced or changed, or when a value does not fit its field — each cell named
(« Feuille « Bilan actif », cellule C12 (ER_CAPITAL) : … »).

Every input cell is carried: an empty cell clears the field. A table's rows replace the
dossier's (blank rows dropped). Computed cells and calculated columns are compared with the
recomputation when the file holds the values the spreadsheet saved (reported, not applied).

A computed cell's formula is compared with the version's: as it stands (a row typed just below
a table, which Excel absorbs without moving anything), moved as the download moves it when the
file's tables have more (or fewer) rows than the workbook's, or with its references following
the rows of the file (rows inserted or deleted anywhere in Excel move the named cells, which
show where each row went).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.db import connection
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import get_column_letter

from forms_cms.engine import serial_to_ymd
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import Invalid, parse_value
from forms_cms.models import VersionFile
from forms_cms.workbook import WorkbookFileError, workbook_file_check
from forms_cms.workbook.cellbook import CellBookError, CellTable, cell_book
from forms_cms.workbook.filled import (
    MARKER_NAME,
    RowMap,
    RowShift,
    TableFill,
    formula_key,
    formula_shift,
    risky_parts,
    support_fill,
)
from forms_cms.xmlformat import MSG_TABLE_CAP, ImportReport, table_rows
from tenants.security_events import upload_refused_record

MB = 1024 * 1024
MAX_SUPPORT_BYTES = 20 * MB
# the ER Sociaux support, recalculated by LibreOffice, holds 3 MB of XML: 25 times that
MAX_SUPPORT_UNCOMPRESSED_BYTES = 80 * MB
MAX_REPORTED_CELLS = 50  # cell-by-cell messages shown, then a count

MSG_MACROS = (
    "Le fichier « {filename} » contient des macros (VBA) : elles ne sont pas acceptées. "
    "Enregistrez-le au format « Classeur Excel (*.xlsx) » (sans macros) et importez ce "
    "nouveau fichier."
)
MSG_LINKS = (
    "Le fichier « {filename} » contient des liaisons vers d'autres classeurs : elles ne sont "
    "pas acceptées. Dans Excel, « Données › Modifier les liens › Rompre le lien », "
    "enregistrez, puis importez-le à nouveau."
)
MSG_OTHER_VERSION = (
    "Ce classeur est le support du formulaire {code} version {version} (exercice {exercise}) ; "
    "ce dossier utilise le formulaire {expected_code} version {expected_version} (exercice "
    "{expected_exercise}) : téléchargez le support de ce dossier et reportez-y vos saisies."
)
MSG_SIREN = (
    "Ce classeur a été téléchargé pour l'organisme de SIREN {siren}, pas pour celui de ce "
    "dossier ({expected}) : vérifiez que vous importez le bon fichier."
)
MSG_NOT_THIS_FORM = (
    "Ce classeur n'est pas le support du formulaire « {label} » de ce dossier : {missing} de "
    "ses {total} champs nommés en sont absents. Téléchargez le support de ce dossier (lien "
    "« Télécharger le support Excel rempli ») et reportez-y vos saisies."
)
MSG_SHEET = (
    "La feuille « {sheet} » est absente du classeur (renommée ou supprimée) : redonnez-lui "
    "son nom d'origine, ou repartez du support téléchargé."
)
MSG_NAME = (
    "Le nom {name} (feuille « {sheet} ») n'existe plus dans le classeur : ne supprimez ni ne "
    "renommez les noms définis du support ; repartez du support téléchargé."
)
MSG_TABLE_MISSING = (
    "Le tableau « {table} » (feuille « {sheet} ») est absent du classeur : ne le supprimez ni "
    "ne le renommez ; repartez du support téléchargé."
)
MSG_TABLE_HEADERS = (
    "Le tableau « {table} » n'a plus ses colonnes d'origine (attendu : {expected} ; trouvé : "
    "{found}) : rétablissez les colonnes, ou repartez du support téléchargé."
)
MSG_CELL = "Feuille « {sheet} », cellule {cell} ({name}) : {reason}"
MSG_TABLE_CELL_AT = (
    "Feuille « {sheet} », cellule {cell} (tableau {table}, ligne {row}, colonne « {column} ») : "
    "{reason}"
)
MSG_FORMULA_INPUT = (
    "une formule a été saisie dans un champ de saisie : remplacez-la par une valeur (la "
    "plateforme n'importe pas de formule)."
)
MSG_FORMULA_CHANGED = (
    "la formule de ce champ calculé a été modifiée : rétablissez la formule d'origine (la "
    "plateforme calcule ce champ elle-même)."
)
MSG_FORMULA_REPLACED = (
    "la formule de ce champ calculé a été remplacée par une valeur : rétablissez la formule "
    "d'origine (la plateforme calcule ce champ elle-même)."
)
MSG_MORE = "… et {count} autres cellules à corriger de la même façon."
MSG_OTHER_VERSION_HINT = (
    "Si ce classeur est le support d'une autre version du formulaire, téléchargez le support "
    "de ce dossier (« Télécharger le support Excel rempli ») et reportez-y vos saisies."
)
MSG_DAMAGED = (
    "Le fichier « {filename} » est endommagé (son contenu XML est illisible) : ouvrez-le dans "
    "Excel, enregistrez-le au format « Classeur Excel (*.xlsx) » et importez ce nouveau fichier."
)
MSG_AMOUNT_DECIMALS = "Deux décimales au plus pour un montant (ex. 1 234,56)."


def _marker(dossier) -> str:
    version = dossier.form_version
    return "|".join(
        (
            version.document_type.code,
            str(dossier.campaign.exercise),
            str(version.number),
            dossier.organism.siren,
        )
    )


@lru_cache(maxsize=8)
def _source(schema: str, version_id: int) -> tuple[bytes, str]:
    content, filename = VersionFile.objects.values_list("content", "filename").get(
        version_id=version_id, kind=VersionFile.Kind.SOURCE
    )
    return bytes(content), filename


def version_source(version) -> bytes:
    return _source(connection.schema_name, version.pk)[0]


def support_filename(dossier) -> str:
    return (
        f"{dossier.document_type.code}-{dossier.campaign.exercise}-{dossier.organism.siren}"
        f"-v{dossier.form_version.number}.xlsx"
    )


def dossier_support(dossier) -> bytes:
    """The dossier (live, or the transmitted snapshot ``DossierPolicy.readable`` gives) as
    its filled Excel support."""
    version = dossier.form_version
    inputs = {
        name: dossier.values.get(name)
        for name, info in version_fields(version).items()
        if not info.computed
    }
    tables = [
        TableFill(name, [c.name for c in meta.inputs], table_rows(dossier, name))
        for name, meta in version_tables(version).items()
    ]
    source = version_source(version)
    return support_fill(source, inputs=inputs, tables=tables, marker=_marker(dossier))


# ---------------------------------------------------------------------------------------------
# import


class _Expected:
    """What a version's source workbook says the import needs: its sheets, per computed field
    its formula, per table its bounds and its calculated columns' template formulas."""

    def __init__(self, source: bytes):
        book = cell_book(source)
        self.sheets = book.sheets
        self.names = book.names
        self.formulas: dict[str, tuple[str, str]] = {}  # NAME → (formula, its formula_key)
        for name, where in book.names.items():
            formula = book.cell(*where)[1]
            if formula is not None:
                self.formulas[name] = (formula, formula_key(formula))
        # NAME → (table, {column offset: (calculated formula, its cell, its key)})
        self.tables: dict[str, tuple[CellTable, dict[int, tuple[str, str, str]]]] = {}
        for key, table in book.tables.items():
            calculated = {}
            for col in range(table.c1, table.c2 + 1):
                formula = book.cell(table.sheet, table.last_row, col)[1]
                if formula is not None:
                    coord = f"{get_column_letter(col)}{table.last_row}"
                    calculated[col - table.c1] = (formula, coord, formula_key(formula))
            self.tables[key] = (table, calculated)


@lru_cache(maxsize=8)
def _expected(schema: str, version_id: int) -> _Expected:
    return _Expected(_source(schema, version_id)[0])


def _problem(report: ImportReport, message: str, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] <= MAX_REPORTED_CELLS:
        report.errors.append(message)


def _text_of(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_stored_value(info, value):
    """A cell's value (as the lean reader or openpyxl gives it: number, text, date, boolean)
    as the field stores it, or :class:`Invalid` with the French reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = info.data_type
    if isinstance(value, dt.datetime | dt.date):
        if kind == "date":
            day = value.date() if isinstance(value, dt.datetime) else value
            return parse_value("date", day.strftime("%d/%m/%Y"))
        value = _text_of(value) if kind in ("text", "choice") else value
    if isinstance(value, bool):
        value = "VRAI" if value else "FAUX"
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if kind == "amount":
            if abs(number) >= 1e15:
                return Invalid("Montant trop grand (15 chiffres au plus).")
            if abs(round(number, 2) - number) > 1e-6:
                return Invalid(MSG_AMOUNT_DECIMALS)
            return round(number, 2)
        if kind == "integer":
            if not number.is_integer():
                return Invalid("Nombre entier attendu, sans décimales (ex. 1 250).")
            return number
        if kind == "percentage":
            return number
        if kind == "date":
            try:
                year, month, day = serial_to_ymd(number)
                return parse_value("date", f"{day:02d}/{month:02d}/{year}")
            except (ValueError, OverflowError):
                return Invalid("Date attendue au format jj/mm/aaaa (ex. 31/12/2024).")
        return parse_value(kind, _text_of(number), choices=info.choices)
    text = str(value)
    parsed = parse_value(kind, text, choices=info.choices)
    if isinstance(parsed, Invalid) and kind in ("amount", "integer", "percentage", "date"):
        return Invalid(f"« {text.strip()[:40]} » n'est pas accepté. {parsed.message}")
    return parsed


def _marker_check(report: ImportReport, marker: str, dossier, any_siren: bool) -> bool:
    parts = marker.split("|")
    if len(parts) != 4:
        return True
    code, exercise, number, siren = parts
    version = dossier.form_version
    expected = (version.document_type.code, str(dossier.campaign.exercise), str(version.number))
    if (code, exercise, number) != expected:
        report.errors.append(
            MSG_OTHER_VERSION.format(
                code=code,
                version=number,
                exercise=exercise,
                expected_code=expected[0],
                expected_version=expected[2],
                expected_exercise=expected[1],
            )
        )
        return False
    if not any_siren and siren != dossier.organism.siren:
        report.errors.append(MSG_SIREN.format(siren=siren, expected=dossier.organism.siren))
        return False
    return True


def support_import_plan(
    dossier, data: bytes, filename: str = "classeur.xlsx", *, any_siren: bool = False
) -> tuple[ImportReport, dict[str, object], dict]:
    """Read and check a filled support for this dossier: the report, the input values to
    apply (every input field; tables with their rows), the computed values the file saved.
    Nothing is written. ``any_siren``: the marker's SIREN is not checked (a check against a
    form version, whatever organism the support was filled for)."""
    report = ImportReport()
    empty: tuple[ImportReport, dict, dict] = (report, {}, {})
    if filename.lower().endswith((".xlsm", ".xltm", ".xlam")):
        report.errors.append(MSG_MACROS.format(filename=filename))
        return empty
    try:
        workbook_file_check(
            data,
            filename,
            max_upload_bytes=MAX_SUPPORT_BYTES,
            max_uncompressed_bytes=MAX_SUPPORT_UNCOMPRESSED_BYTES,
        )
        macros, links = risky_parts(data)
        if macros:
            raise WorkbookFileError(MSG_MACROS.format(filename=filename))
        if links:
            raise WorkbookFileError(MSG_LINKS.format(filename=filename))
        book = cell_book(data)
    except WorkbookFileError as exc:
        upload_refused_record(exc, filename=filename, what="Support rempli d'un dossier")
        report.errors.append(exc.message)
        return empty
    except CellBookError:
        report.errors.append(MSG_DAMAGED.format(filename=filename))
        return empty
    version = dossier.form_version
    fields = version_fields(version)
    tables = version_tables(version)
    marker = book.constants.get(MARKER_NAME)
    marker = marker.strip().strip('"') if marker else None
    if marker is not None and not _marker_check(report, marker, dossier, any_siren):
        return empty
    missing = [name for name in fields if name.upper() not in book.names]
    if marker is None and len(missing) > len(fields) // 2:
        report.errors.append(
            MSG_NOT_THIS_FORM.format(
                label=version.document_type.label, missing=len(missing), total=len(fields)
            )
        )
        return empty
    sheets = set(book.sheets)
    expected = _expected(connection.schema_name, version.pk)
    for sheet in expected.sheets:
        if sheet not in sheets:
            report.errors.append(MSG_SHEET.format(sheet=sheet))
    if report.errors:
        return empty
    for name in missing[:MAX_REPORTED_CELLS]:
        report.errors.append(MSG_NAME.format(name=name, sheet=fields[name].sheet))
    if missing:
        return empty
    # the rows each table has in the file: the formulas below them moved as the download
    # moves them
    shifts: list[RowShift] = []
    found_tables: dict[str, tuple[CellTable, CellTable, dict]] = {}
    for name, meta in tables.items():
        key = name.upper()
        table = book.tables.get(key)
        if table is None:
            report.errors.append(MSG_TABLE_MISSING.format(table=name, sheet=meta.sheet))
            continue
        source, calculated = expected.tables[key]
        if [h.casefold() for h in table.headers] != [h.casefold() for h in source.headers]:
            report.errors.append(
                MSG_TABLE_HEADERS.format(
                    table=name, expected=", ".join(source.headers), found=", ".join(table.headers)
                )
            )
            continue
        found_tables[name] = (table, source, calculated)
        delta = (table.last_row - table.first_row) - (source.last_row - source.first_row)
        if delta:
            shifts.append(RowShift(source.sheet, source.last_row, delta))
    if report.errors:
        return empty
    shifts.sort(key=lambda s: -s.after)
    maps = _row_maps(expected, book, found_tables)
    counter = [0]
    values: dict[str, object] = {}
    computed: dict[str, object] = {}
    for name, info in fields.items():
        sheet, row, col = book.names[name.upper()]
        value, formula = book.cell(sheet, row, col)
        coord = f"{get_column_letter(col)}{row}"
        if info.computed:
            reason = _computed_formula_problem(
                formula, expected.formulas.get(name.upper()), sheet, (shifts, maps)
            )
            if reason:
                _problem(report, MSG_CELL.format(sheet=sheet, cell=coord, name=name,
                                                 reason=reason), counter)  # fmt: skip
                continue
            report.computed_ignored.append(name)
            if formula is not None and value is not None:
                computed[name] = value
            continue
        if formula is not None:
            _problem(report, MSG_CELL.format(sheet=sheet, cell=coord, name=name,
                                             reason=MSG_FORMULA_INPUT), counter)  # fmt: skip
            continue
        stored = cell_stored_value(info, value)
        if isinstance(stored, Invalid):
            _problem(report, MSG_CELL.format(sheet=sheet, cell=coord, name=name,
                                             reason=stored.message), counter)  # fmt: skip
            continue
        values[name] = stored
    for name, (table, source, calculated) in found_tables.items():
        meta = tables[name]
        rows, saved = _table_read(report, counter, meta, book, table, source, calculated)
        if len(rows) > meta.max_rows:
            report.errors.append(
                MSG_TABLE_CAP.format(
                    table=name, count=len(rows), cap=meta.max_rows, extra=len(rows) - meta.max_rows
                )
            )
        values[name] = rows
        if any(saved):
            computed[name] = saved
            report.computed_ignored.extend(f"{name}/{c.name}" for c in meta.columns if c.computed)
    if counter[0] > MAX_REPORTED_CELLS:
        report.errors.append(MSG_MORE.format(count=counter[0] - MAX_REPORTED_CELLS))
    if marker is None and any(MSG_FORMULA_CHANGED in e for e in report.errors):
        report.errors.append(MSG_OTHER_VERSION_HINT)  # formulas fixed by a newer version
    if report.errors:
        return report, {}, {}
    return report, values, computed


def _row_maps(expected, book, found_tables) -> list[RowMap]:
    """Per sheet whose rows moved in the file, where they went: from the named cells and the
    tables' data rows, as the version has them and as the file has them."""
    starts: dict[str, dict[int, int]] = {}
    ends: dict[str, dict[int, int]] = {}
    for name, (sheet, row, _col) in expected.names.items():
        where = book.names.get(name)
        if where is not None and where[0] == sheet:
            starts.setdefault(sheet, {}).setdefault(row, where[1])
    for table, source, _calculated in found_tables.values():
        starts.setdefault(source.sheet, {})[source.first_row] = table.first_row
        ends.setdefault(source.sheet, {})[source.last_row] = table.last_row
    maps = []
    for sheet in sorted(set(starts) | set(ends)):
        first, last = starts.get(sheet, {}), ends.get(sheet, {})
        if any(k != v for k, v in first.items()) or any(k != v for k, v in last.items()):
            maps.append(RowMap(sheet, first, last))
    return maps


def _computed_formula_problem(formula, expected, sheet, moves) -> str | None:
    if expected is None:  # a constant under a name the version computes: nothing to compare
        return None
    if formula is None:
        return MSG_FORMULA_REPLACED
    expected, key = expected
    mine = formula_key(formula)
    if mine == key:
        return None
    # the version's formula with its references moved: as the download moves them (the
    # tables' rows), then as the file's rows moved (rows inserted anywhere in Excel)
    for changes in moves:
        moved = expected
        for change in changes:
            moved = formula_shift(moved, sheet, change)
        if moved != expected and mine == formula_key(moved):
            return None
    return MSG_FORMULA_CHANGED


def _table_read(report, counter, meta, book, table, source, calculated):
    """A table's rows in the file: ([{input column: value}], [{calculated column: value the
    spreadsheet saved}]); blank rows (no input value) dropped."""
    offsets = {column.name: column.column - source.c1 for column in meta.columns}
    rows, saved = [], []
    for r in range(table.first_row, table.last_row + 1):
        row, row_saved, problems = {}, {}, False
        for column in meta.columns:
            col = table.c1 + offsets[column.name]
            value, formula = book.cell(table.sheet, r, col)
            coord = f"{get_column_letter(col)}{r}"
            where = {
                "sheet": table.sheet,
                "cell": coord,
                "table": meta.name,
                "row": r - table.first_row + 1,
                "column": column.label or column.name,
            }
            reason = None
            if column.computed:
                template = calculated.get(offsets[column.name])
                if template is not None and formula is None and value is not None:
                    reason = MSG_FORMULA_REPLACED
                elif template is not None and formula is not None:
                    text, origin, key = template
                    mine = formula_key(formula)
                    if mine != key:  # relative references: the template moved to this row
                        translated = Translator(text, origin=origin).translate_formula(coord)
                        if mine != formula_key(translated):
                            reason = MSG_FORMULA_CHANGED
                if reason is None and formula is not None and value is not None:
                    row_saved[column.name] = value
            elif formula is not None:
                reason = MSG_FORMULA_INPUT
            else:
                stored = cell_stored_value(column, value)
                if isinstance(stored, Invalid):
                    reason = stored.message
                elif stored is not None:
                    row[column.name] = stored
            if reason:
                problems = True
                _problem(report, MSG_TABLE_CELL_AT.format(**where, reason=reason), counter)
        if row or problems:
            rows.append(row)
            saved.append(row_saved)
    return rows, saved


__all__ = [
    "MAX_SUPPORT_BYTES",
    "dossier_support",
    "support_filename",
    "support_import_plan",
]
