"""Carry-over rules (reprise) of a form version and the variance checks (écarts avec N-1).

When a dossier opens, its empty input fields are prefilled (``workflow.actions.dossier_open``):

- from the organisms' registry: ``target ← registry attribute`` (:data:`REGISTRY_SOURCES`);
- from the previous exercise: ``target ← field`` of the last transmitted snapshot of the same
  organism's dossier of the same document type for the exercise before.

A version without rules of its own uses the default rules by name (:func:`default_rules`,
documented for form editors in ``docs/reprise-et-ecarts.md``); the gestionnaire replaces them
on the version's « Reprise et écarts » page or with an uploaded two-column sheet
(:func:`mapping_parse`).

The variance check (:func:`variance_flags`) compares the numeric fields of a dossier with the
same fields of that previous snapshot. It is pure: the caller finds the snapshot.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from harmonia.workbook_safety import LIST_CAPS, WorkbookFileError, workbook_file_check

from forms_cms.fields import version_fields
from forms_cms.formats import format_value
from forms_cms.models import CarryOverRule, CarryOverSettings
from forms_cms.services.runtime import compiled_form
from tenants.security_events import upload_refused_record

Origin = CarryOverRule.Origin

# registry attribute → what the gestionnaire reads; the values are made in
# workflow.services.prefill (the exercise and its dates need the campaign)
REGISTRY_SOURCES = {
    "siren": "SIREN",
    "name": "raison sociale",
    "family": "famille",
    "departement": "département",
    "closing_date": "date de clôture de l'exercice",
    "opening_date": "date d'ouverture de l'exercice",
    "exercise": "exercice (année de la campagne)",
}
# the default rule: a single input field named …ID_<KEY> is filled from the registry
REGISTRY_NAMES = {
    "SIREN": "siren",
    "RAISON_SOCIALE": "name",
    "FAMILLE": "family",
    "CATEGORIE": "family",
    "DEPARTEMENT": "departement",
    "DATE_CLOTURE": "closing_date",
    "DATE_OUVERTURE": "opening_date",
    "EXERCICE": "exercise",
}
_REGISTRY_NAME = re.compile(r"(?:^|_)ID_(" + "|".join(REGISTRY_NAMES) + r")$")
# a previous-exercise source written in the uploaded sheet as « répertoire:siren »
REGISTRY_PREFIXES = ("répertoire:", "repertoire:")
NUMERIC_TYPES = ("amount", "integer")
MAX_MAPPING_BYTES = 2 * 1024 * 1024
MAX_MAPPING_LINES = 20_000

MSG_TOO_BIG = (
    "Le fichier pèse plus de {mb} Mo : une table de reprise tient en deux colonnes ; "
    "déposez un fichier CSV ou Excel de deux colonnes (champ rempli ; champ repris)."
)
MSG_TOO_LONG = "Le fichier compte plus de {n} lignes : une ligne par champ repris suffit."
MSG_FILE_TYPE = (
    "Le fichier « {name} » n'est ni un CSV ni un classeur Excel (.xlsx) : déposez un fichier de "
    "deux colonnes (champ rempli ; champ repris)."
)
MSG_UNREADABLE = "Le fichier « {name} » est illisible ({reason}) : enregistrez-le à nouveau."
MSG_EMPTY_FILE = (
    "Le fichier ne contient aucune règle : une ligne par champ (champ rempli ; repris)."
)
MSG_COLUMNS = (
    "Ligne {line} : deux colonnes attendues (champ rempli ; champ repris), {n} trouvée(s). "
    "Corrigez la ligne."
)
MSG_UNKNOWN_TARGET = (
    "Ligne {line} : le champ « {name} » n'existe pas dans cette version du formulaire. Vérifiez "
    "son nom (le nom défini de la cellule, voir le fichier de spécification)."
)
MSG_COMPUTED_TARGET = (
    "Ligne {line} : le champ « {name} » est calculé par une formule : il ne peut pas être "
    "rempli par une reprise. Indiquez le champ de saisie qui alimente ce calcul."
)
MSG_DUPLICATE_TARGET = (
    "Ligne {line} : le champ « {name} » est déjà rempli par la ligne {first}. Gardez une seule "
    "ligne par champ rempli."
)
MSG_EMPTY_SOURCE = "Ligne {line} : indiquez le champ repris pour « {name} » (deuxième colonne)."
MSG_UNKNOWN_REGISTRY = (
    "Ligne {line} : « {source} » n'est pas une donnée du répertoire. Données possibles : {choices}."
)
MSG_UNKNOWN_SOURCE = (
    "Ligne {line} : le champ « {source} » n'existe pas dans le formulaire de l'exercice "
    "{exercise}. Vérifiez son nom dans le fichier de spécification de cet exercice."
)
MSG_BAD_NAME = (
    "Ligne {line} : « {source} » n'est pas un nom de champ (lettres, chiffres, « _ » et « . »)."
)
FIELD_NAME = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.\\]*$")


@dataclass(frozen=True)
class Rule:
    target: str
    origin: str  # Origin.REGISTRY or Origin.PREVIOUS
    source: str

    @property
    def source_label(self) -> str:
        if self.origin == Origin.REGISTRY:
            return f"répertoire : {REGISTRY_SOURCES.get(self.source, self.source)}"
        return self.source


class MappingRefused(Exception):
    """Nothing was changed: ``errors`` lists each refused line, in French."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


# --- the rules ---------------------------------------------------------------------------------
def default_rules(version) -> list[Rule]:
    """The rules by name: ``…ID_SIREN``, ``…ID_RAISON_SOCIALE`` … from the registry
    (:data:`REGISTRY_NAMES`); an N-1 column ``X_N1`` from last year's ``X_N`` (or ``X`` when
    the form has no ``X_N``). Only single input fields are filled. Cached per version (its
    field names and kinds never change after the upload)."""
    return list(_default_rules(connection.schema_name, version.pk, version))


@lru_cache(maxsize=32)
def _default_rules(schema: str, version_id: int, version) -> tuple[Rule, ...]:
    fields = version_fields(version)
    rules = []
    for name, info in fields.items():
        if info.computed:
            continue
        if match := _REGISTRY_NAME.search(name):
            rules.append(Rule(name, Origin.REGISTRY, REGISTRY_NAMES[match.group(1)]))
        elif name.endswith("_N1"):
            base = name[: -len("_N1")]
            source = f"{base}_N" if f"{base}_N" in fields or base not in fields else base
            rules.append(Rule(name, Origin.PREVIOUS, source))
    return tuple(sorted(rules, key=lambda r: (r.origin != Origin.REGISTRY, r.target)))


def version_settings(version) -> CarryOverSettings:
    """The version's settings (unsaved defaults when the gestionnaire has set none)."""
    found = CarryOverSettings.objects.filter(version_id=version.pk).first()
    return found or CarryOverSettings(version_id=version.pk)


def version_rules(version, settings: CarryOverSettings | None = None) -> list[Rule]:
    """The rules in force: the version's own, or the default rules by name."""
    settings = settings or version_settings(version)
    if not settings.customised:
        return default_rules(version)
    return [
        Rule(target, origin, source)
        for target, origin, source in CarryOverRule.objects.filter(version_id=version.pk)
        .order_by("origin", "target")
        .values_list("target", "origin", "source")
    ]


# --- the uploaded sheet ------------------------------------------------------------------------
def _lines(content: bytes, filename: str) -> list[list[object]]:
    if len(content) > MAX_MAPPING_BYTES:
        raise MappingRefused([MSG_TOO_BIG.format(mb=MAX_MAPPING_BYTES // (1024 * 1024))])
    lower = filename.lower()
    if content.startswith(b"PK") or lower.endswith((".xlsx", ".xlsm")):
        try:
            extent = workbook_file_check(
                content, filename, max_upload_bytes=MAX_MAPPING_BYTES, extent_caps=LIST_CAPS
            )
        except WorkbookFileError as exc:
            upload_refused_record(exc, filename=filename, what="Règles de reprise")
            raise MappingRefused([exc.message]) from exc
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                rows = []
                sheet = book.worksheets[0]
                measured = extent.sheet(sheet.title)
                if measured is None or measured.cells == 0:
                    return rows
                # bounded by the measured extent, not the sheet's declared dimension
                for row in sheet.iter_rows(
                    max_row=measured.max_row, max_col=measured.max_col, values_only=True
                ):
                    rows.append(list(row))
                    if len(rows) > MAX_MAPPING_LINES:
                        raise MappingRefused([MSG_TOO_LONG.format(n=MAX_MAPPING_LINES)])
                return rows
            finally:
                book.close()
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, IndexError) as e:
            raise MappingRefused([MSG_UNREADABLE.format(name=filename, reason="Excel")]) from e
    if not lower.endswith((".csv", ".txt")):
        raise MappingRefused([MSG_FILE_TYPE.format(name=filename)])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise MappingRefused([MSG_UNREADABLE.format(name=filename, reason="CSV")]) from exc
    if len(rows) > MAX_MAPPING_LINES:
        raise MappingRefused([MSG_TOO_LONG.format(n=MAX_MAPPING_LINES)])
    return rows


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _is_header(cells: list[str]) -> bool:
    first = cells[0].lower() if cells else ""
    return first.startswith(("champ", "cible", "target"))


def mapping_parse(version, content: bytes, filename: str, *, previous_fields=None) -> list[Rule]:
    """The rules of an uploaded sheet of two columns (field filled ; field carried over, or
    ``répertoire:<attribute>``), or :class:`MappingRefused` with every refused line.
    ``previous_fields``: the field names of the previous exercise's form (None: unknown, the
    sources are then not checked)."""
    rows = _lines(content, filename)
    fields = version_fields(version)
    exercise = version.campaign.exercise - 1
    errors: list[str] = []
    rules: list[Rule] = []
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        cells = [_text(c) for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if line == 1 and _is_header(cells):
            continue
        if len(cells) != 2:
            errors.append(MSG_COLUMNS.format(line=line, n=len(cells)))
            continue
        target, source = cells
        info = fields.get(target)
        if info is None:
            errors.append(MSG_UNKNOWN_TARGET.format(line=line, name=target))
            continue
        if info.computed:
            errors.append(MSG_COMPUTED_TARGET.format(line=line, name=target))
            continue
        if target in first_line:
            errors.append(
                MSG_DUPLICATE_TARGET.format(line=line, name=target, first=first_line[target])
            )
            continue
        first_line[target] = line
        if not source:
            errors.append(MSG_EMPTY_SOURCE.format(line=line, name=target))
            continue
        if source.lower().startswith(REGISTRY_PREFIXES):
            attribute = source.split(":", 1)[1].strip().lower()
            if attribute not in REGISTRY_SOURCES:
                errors.append(
                    MSG_UNKNOWN_REGISTRY.format(
                        line=line,
                        source=source,
                        choices=", ".join(f"répertoire:{k}" for k in REGISTRY_SOURCES),
                    )
                )
                continue
            rules.append(Rule(target, Origin.REGISTRY, attribute))
            continue
        if not FIELD_NAME.match(source):
            errors.append(MSG_BAD_NAME.format(line=line, source=source))
            continue
        if previous_fields is not None and source not in previous_fields:
            errors.append(MSG_UNKNOWN_SOURCE.format(line=line, source=source, exercise=exercise))
            continue
        rules.append(Rule(target, Origin.PREVIOUS, source))
    if errors:
        raise MappingRefused(errors)
    if not rules:
        raise MappingRefused([MSG_EMPTY_FILE])
    return rules


def mapping_csv(rules: list[Rule]) -> str:
    """The rules as the sheet the gestionnaire uploads (to download, edit and upload back)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["champ rempli", "repris de"])
    for rule in rules:
        source = f"répertoire:{rule.source}" if rule.origin == Origin.REGISTRY else rule.source
        writer.writerow([rule.target, source])
    return out.getvalue()


# --- variance ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class VarianceFlag:
    """A value that moved far from the previous exercise's transmitted one."""

    name: str
    label: str
    sheet: str
    row: int
    column: int
    previous: object
    current: object
    data_type: str
    number_format: str
    exercise: int  # the previous exercise

    @property
    def ratio(self) -> float | None:
        """The relative move (0.62 for +62 %), None when the previous value is 0."""
        before = self.previous or 0
        if before == 0:
            return None
        return ((self.current or 0) - before) / abs(before)

    @property
    def message(self) -> str:
        before = format_value(self.previous or 0, self.data_type, self.number_format) or "0"
        now = format_value(self.current or 0, self.data_type, self.number_format) or "0"
        ratio = self.ratio
        if ratio is None:
            move = "valeur nulle ou vide"
        else:
            move = f"{'+' if ratio > 0 else '−'}{format_value(abs(ratio) * 100, 'integer')} %"
        return f"Écart avec {self.exercise} : {now} contre {before} en {self.exercise} ({move})."


_READING: dict[tuple, object] = {}
_ABSENT = object()


def reading_carried(version, carried: frozenset[str]) -> frozenset[str]:
    """The computed fields whose formula reads one of the ``carried`` fields, directly or
    through other formulas (the compiled form's dependents), cached per version and rules."""
    if not carried:
        return frozenset()
    key = (connection.schema_name, version.pk, carried)
    if (found := _READING.get(key)) is None:
        form = compiled_form(version)
        seen: set[int] = set()
        todo = [form.names[name] for name in carried if name in form.names]
        while todo:
            for dependent in form.dependents.get(todo.pop(), ()):
                if dependent not in seen:
                    seen.add(dependent)
                    todo.append(dependent)
        found = frozenset(name for name, cid in form.names.items() if cid in seen)
        if len(_READING) > 64:
            _READING.clear()
        _READING[key] = found
    return found


def _number(value) -> float | None:
    if value is None or value == "":
        return 0.0
    if value.__class__ in (int, float):
        return float(value)
    return None  # text, an error, a list: not compared


def _moved(before: float, now: float, share: float, minimum: float) -> bool:
    change = abs(now - before)
    # float noise on amounts in cents: compare to the thousandth
    if change == 0 or change < minimum - 0.0005:
        return False
    return change > abs(before) * share + 0.0005


def variance_moved(previous, current, *, percent: Decimal, minimum: Decimal) -> bool:
    """Whether a move is flagged: the change exceeds ``percent`` % of the previous value
    (strictly: exactly at the threshold is not flagged) and is at least ``minimum`` (a change
    below the minimum amount is never flagged). From 0 (or empty), any change of at least
    the minimum is flagged; an empty value counts as 0 (:func:`variance_flags` does not
    compare a field not filled yet)."""
    before, now = _number(previous), _number(current)
    if before is None or now is None:
        return False
    return _moved(before, now, float(percent) / 100, float(minimum))


def _compared(version, carried: frozenset[str]) -> tuple:
    """(name, info) of the numeric single fields the variance compares: not the N-1 columns
    (``carried``) nor the computed fields that read them; cached per version and rules."""
    key = ("compared", connection.schema_name, version.pk, carried)
    if (found := _READING.get(key)) is None:
        mixed = reading_carried(version, carried)
        found = tuple(
            (name, info)
            for name, info in version_fields(version).items()
            if info.data_type in NUMERIC_TYPES and name not in carried and name not in mixed
        )
        if len(_READING) > 64:
            _READING.clear()
        _READING[key] = found
    return found


def variance_flags(
    version, values: dict, computed: dict, previous: dict, *, exercise: int,
    settings: CarryOverSettings | None = None, rules: list[Rule] | None = None,
) -> dict[str, VarianceFlag]:  # fmt: skip
    """The numeric single fields (amounts, integers; entered or computed) whose value moved
    beyond the version's thresholds from ``previous`` (the previous exercise's transmitted
    values and computed values, one dict). The N-1 columns are left out: the fields filled
    from last year, and the computed fields that read them (directly or not: a total of
    N-1, a variation N − N-1): they hold last year's figures, or mix both years.
    A field absent from ``previous`` (empty last year, or not in last year's form) is not
    compared; nor is an input field empty this year, or a computed field at 0 (not filled
    yet: a 0 typed in an input field is compared)."""
    settings = settings or version_settings(version)
    rules = rules if rules is not None else version_rules(version, settings)
    carried = frozenset(r.target for r in rules if r.origin == Origin.PREVIOUS)
    share = float(settings.variance_percent) / 100
    minimum = float(settings.variance_minimum)
    flags = {}
    for name, info in _compared(version, carried):
        before = previous.get(name, _ABSENT)
        if before is _ABSENT:
            continue
        current = computed.get(name) if info.computed else values.get(name)
        # not filled yet: an empty input field, a computed field at 0 (nothing entered in
        # what it adds up) — a dossier being filled would otherwise be all warnings
        if current is None or current == "" or (info.computed and current == 0):
            continue
        before_n, now_n = _number(before), _number(current)
        if before_n is None or now_n is None:
            continue
        if _moved(before_n, now_n, share, minimum):
            flags[name] = VarianceFlag(
                name=name,
                label=info.label,
                sheet=info.sheet,
                row=info.row,
                column=info.column,
                previous=previous[name],
                current=current,
                data_type=info.data_type,
                number_format=info.number_format,
                exercise=exercise,
            )
    return flags
