"""Running a dossier's controls ("Lancer la vérification") and computing its key aggregates.

The dossier's values are evaluated once by the form's engine; every enabled control and every
aggregate of its form version is then a compiled function over that value list (compiled once
per process, see ``forms_cms.controls``). Nothing is written: the report is recomputed on
each request, which costs a few milliseconds even for hundreds of controls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from django.db import connection
from openpyxl.utils.cell import get_column_letter

from forms_cms.carryover import VarianceFlag, variance_flags
from forms_cms.controls import PLACEHOLDER, CompiledRule, rule_compile
from forms_cms.engine import Arr, XLError, op_eq, op_ge, op_gt, op_le, op_lt, op_ne
from forms_cms.fields import FieldInfo, version_fields, version_sheets, version_tables
from forms_cms.formats import format_value
from forms_cms.models import Aggregate, Control
from forms_cms.services.runtime import (
    compiled_form,
    dossier_values_list,
    stored_values_list,
    table_rows_stored,
    to_stored,
)

PASSED, FAILED, ERROR = "passed", "failed", "error"
GENERAL = "Général"
ERROR_MEANINGS = {
    "#DIV/0!": "division par zéro",
    "#VALUE!": "valeur d'un type inattendu",
    "#N/A": "valeur non disponible",
    "#REF!": "référence invalide",
    "#NAME?": "nom inconnu",
    "#NUM!": "nombre invalide",
    "#NULL!": "intersection vide",
}
MSG_ERROR_VALUE = "Calcul impossible : {side} donne {code} ({meaning})."
MSG_INVALID = "Règle invalide ({side}) : {reason}. Le gestionnaire doit la corriger."
MSG_CONDITION_TYPE = "La condition doit donner VRAI ou FAUX ; elle donne « {value} »."
MSG_DEFAULT_COMPARISON = (
    "Attendu : {left} {operator} {right}{tolerance}. Valeurs : {gauche} et {droite}, écart {ecart}."
)
MSG_DEFAULT_CONDITION = "Condition non satisfaite : {condition}.{values}"
SIDE_NAMES = {"left": "le membre de gauche", "right": "le membre de droite"}
RULE_PARTS = {"left": "membre de gauche", "right": "membre de droite", "condition": "condition"}
OPERATOR_WORDS = {"=": "=", "<>": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_EXCEL_OPS = {"=": op_eq, "<>": op_ne, "<": op_lt, "<=": op_le, ">": op_gt, ">=": op_ge}
_SEVERITY_ORDER = {Control.Severity.BLOCKING: 0, Control.Severity.WARNING: 1}


@dataclass(frozen=True)
class CellLink:
    """A field a control reads, where it is, and its value in the dossier."""

    name: str
    label: str
    sheet: str
    sheet_index: int | None
    address: str
    value: str


@dataclass
class ControlResult:
    code: str
    label: str
    severity: str
    status: str  # PASSED, FAILED or ERROR (an error counts as a failure)
    message: str
    formula: str
    sheet: str
    sheet_index: int | None
    cells: list[CellLink] = field(default_factory=list)
    left: str = ""
    right: str = ""
    gap: str = ""

    @property
    def failed(self) -> bool:
        return self.status != PASSED

    @property
    def blocking(self) -> bool:
        return self.failed and self.severity == Control.Severity.BLOCKING

    @property
    def severity_label(self) -> str:
        return Control.Severity(self.severity).label

    @property
    def field_sheets(self) -> tuple[str, ...]:
        """The sheets of the fields the control reads, in the order it reads them."""
        return tuple(dict.fromkeys(c.sheet for c in self.cells))


@dataclass
class AggregateResult:
    code: str
    label: str
    tab: str
    value: str
    error: str = ""


@dataclass
class SheetGroup:
    sheet: str
    sheet_index: int | None
    results: list[ControlResult]

    @property
    def failures(self) -> list[ControlResult]:
        return [r for r in self.results if r.failed]

    @property
    def passed(self) -> list[ControlResult]:
        return [r for r in self.results if not r.failed]


@dataclass(frozen=True)
class VarianceWarning:
    """A value far from last year's transmitted one (``forms_cms.carryover``), where it is:
    a warning beside its cell, never blocking."""

    flag: VarianceFlag
    sheet_index: int | None
    address: str

    @property
    def previous_shown(self) -> str:
        f = self.flag
        return format_value(f.previous or 0, f.data_type, f.number_format) or "0"

    @property
    def current_shown(self) -> str:
        f = self.flag
        return format_value(f.current or 0, f.data_type, f.number_format) or "0"


@dataclass
class VerificationReport:
    results: list[ControlResult]
    aggregates: list[AggregateResult]
    variances: list[VarianceWarning] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[ControlResult]:
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[ControlResult]:
        return [r for r in self.results if r.failed and not r.blocking]

    @property
    def passed(self) -> list[ControlResult]:
        return [r for r in self.results if not r.failed]

    @property
    def groups(self) -> list[SheetGroup]:
        """Results by sheet (in the form's sheet order), failures first: blocking, then
        warnings, then passed controls."""
        by_sheet: dict[str, SheetGroup] = {}
        for result in self.results:
            group = by_sheet.setdefault(
                result.sheet, SheetGroup(result.sheet, result.sheet_index, [])
            )
            group.results.append(result)
        for group in by_sheet.values():
            group.results.sort(
                key=lambda r: (not r.blocking, not r.failed, _SEVERITY_ORDER[r.severity])
            )
        return sorted(
            by_sheet.values(),
            key=lambda g: (
                not any(r.blocking for r in g.results),
                g.sheet_index if g.sheet_index is not None else math.inf,
                g.sheet,
            ),
        )

    @property
    def tabs(self) -> list[tuple[str, list[AggregateResult]]]:
        tabs: dict[str, list[AggregateResult]] = {}
        for aggregate in self.aggregates:
            tabs.setdefault(aggregate.tab, []).append(aggregate)
        return list(tabs.items())


# helpers ------------------------------------------------------------------------------------
def _sheet_positions(version) -> dict[str, int]:
    return {sheet.name: sheet.position for sheet in version_sheets(version)}


def _scalar(value):
    if value.__class__ is Arr:
        value = value.vals[0] if value.vals else None
    return value


def _is_number(value) -> bool:
    return value.__class__ in (int, float)


def _display_type(rule: CompiledRule, fields: dict[str, FieldInfo]) -> tuple[str, str]:
    """The data type and number format to show a formula's value with: its field's when the
    formula is one field, the common type of the fields it reads otherwise."""
    infos = [fields[n] for n in rule.names if n in fields]
    if rule.single_field and infos:
        return infos[0].data_type, infos[0].number_format
    types = {i.data_type for i in infos}
    if len(types) == 1 and infos[0].data_type in ("amount", "integer", "percentage"):
        return infos[0].data_type, infos[0].number_format if len(infos) == 1 else ""
    return "amount", ""


def _shown(value, data_type="amount", number_format="") -> str:
    value = _scalar(value)
    if value is None:
        return "vide"
    text = format_value(to_stored(value), data_type, number_format)
    return text if text != "" else "vide"


def _render(template: str, values: dict[str, str], field_value) -> str:
    def replace(match):
        key = match.group(1).strip()
        if key.lower() in values:
            return values[key.lower()]
        shown = field_value(key)
        return shown if shown is not None else match.group(0)

    return PLACEHOLDER.sub(replace, template)


def _compare(left, right, operator: str, tolerance: float) -> bool:
    """The rule's verdict; numbers with the tolerance, other values as Excel compares them."""
    if _is_number(left) and _is_number(right):
        gap = left - right
        eps = 1e-9 * max(1.0, abs(left), abs(right))  # float noise, not a tolerance
        if operator == "=":
            return abs(gap) <= tolerance + eps
        if operator == "<>":
            return abs(gap) > tolerance + eps
        if operator == "<=":
            return gap <= tolerance + eps
        if operator == "<":
            return gap < tolerance - eps
        if operator == ">=":
            return gap >= -tolerance - eps
        return gap > -tolerance + eps
    return _EXCEL_OPS[operator](left, right) is True


def _truthy(value):
    """True/False for a condition's value, or None when it is neither."""
    if value.__class__ is bool:
        return value
    if _is_number(value):
        return value != 0
    return None


class _Context:
    """What every control of one verification shares: the values, the fields, the links."""

    def __init__(self, dossier, v: list | None = None):
        version = dossier.form_version
        self.version = version
        self.form = compiled_form(version)
        self.fields = version_fields(version)
        self.sheets = _sheet_positions(version)
        self.dossier = dossier
        # ``v``: the values the caller already computed from the dossier's (one evaluation)
        if v is not None:
            self.v = v
        self.folded = self.form.folded_names

    @cached_property
    def v(self) -> list:
        """The dossier's values list, evaluated when first needed (an outline needs none)."""
        return dossier_values_list(self.form, self.dossier.values)

    def field_value(self, name: str) -> str | None:
        real = self.folded.get(name.upper())
        if real is None:
            return None
        value = self.v[self.form.names[real]]
        if value is None and self.form.names[real] in self.form.formula_ids:
            value = 0
        info = self.fields.get(real)
        if info is None:
            return _shown(value)
        return _shown(value, info.data_type, info.number_format)

    def cells(self, names, values: bool = True) -> list[CellLink]:
        """The links to the fields ``names``, with their values shown (``values``) or not."""
        links = []
        for name in names:
            info = self.fields.get(name)
            if info is None:
                continue
            links.append(
                CellLink(
                    name=name,
                    label=info.label,
                    sheet=info.sheet,
                    sheet_index=self.sheets.get(info.sheet),
                    address=f"{info.sheet}!{get_column_letter(info.column)}{info.row}",
                    value=(self.field_value(name) or "") if values else "",
                )
            )
        return links

    def sheet_of(self, control: Control, names) -> tuple[str, int | None]:
        sheet = control.sheet
        if not sheet:
            sheet = next(
                (self.fields[n].sheet for n in names if n in self.fields),
                GENERAL,
            )
        return sheet, self.sheets.get(sheet)


def _rules(control: Control, version) -> dict[str, CompiledRule]:
    sides = ("condition",) if control.kind == Control.Kind.CONDITION else ("left", "right")
    return {side: rule_compile(version, getattr(control, side)) for side in sides}


def _sides(rules: dict[str, CompiledRule], v: list) -> dict[str, object]:
    return {side: _scalar(rule.function(v)) for side, rule in rules.items()}


def _fails(control: Control, rules: dict[str, CompiledRule], v: list) -> bool:
    """Whether the control fails (an error counts as a failure), without the messages and
    cell links a report shows: what the failing-controls count needs, on every save. The
    same verdict as :func:`_check`."""
    if any(rule.function is None for rule in rules.values()):
        return True
    values = _sides(rules, v)
    if any(value.__class__ is XLError for value in values.values()):
        return True
    if control.kind != Control.Kind.CONDITION:
        left, right = values["left"], values["right"]
        return not _compare(left, right, control.operator, float(control.tolerance))
    return _truthy(values["condition"]) is not True


def _rule_names(rules: dict[str, CompiledRule]) -> list[str]:
    """The fields the rules read, each once, in the order they read them."""
    names: list[str] = []
    for rule in rules.values():
        names.extend(n for n in rule.names if n not in names)
    return names


def _result(control: Control, rules, ctx: _Context, status: str, values: bool = True):
    """The report of ``control`` before its verdict's message: where it points, the cells it
    reads (with their values shown, or not)."""
    names = _rule_names(rules)
    sheet, sheet_index = ctx.sheet_of(control, names)
    return ControlResult(
        code=control.code,
        label=control.label,
        severity=control.severity,
        status=status,
        message="",
        formula=control.formula,
        sheet=sheet,
        sheet_index=sheet_index,
        cells=ctx.cells(names, values=values),
    )


def _check(control: Control, ctx: _Context) -> ControlResult:
    comparison = control.kind != Control.Kind.CONDITION
    rules = _rules(control, ctx.version)
    result = _result(control, rules, ctx, PASSED)
    for side, rule in rules.items():
        if rule.function is None:
            result.status = ERROR
            result.message = MSG_INVALID.format(side=RULE_PARTS[side], reason=rule.error)
            return result
    values = _sides(rules, ctx.v)
    for side, value in values.items():
        if value.__class__ is XLError:
            result.status = ERROR
            result.message = MSG_ERROR_VALUE.format(
                side=SIDE_NAMES.get(side, "la condition"),
                code=value.code,
                meaning=ERROR_MEANINGS.get(value.code, "erreur"),
            )
            if control.message:
                result.message += " " + _render(control.message, {}, ctx.field_value)
            return result
    if comparison:
        return _finish_comparison(control, ctx, rules, values, result)
    verdict = _truthy(values["condition"])
    if verdict is None:
        result.status = ERROR
        result.message = MSG_CONDITION_TYPE.format(value=_shown(values["condition"]))
        return result
    result.status = PASSED if verdict else FAILED
    shown = {"valeur": "VRAI" if verdict else "FAUX"}
    if control.message:
        result.message = _render(control.message, shown, ctx.field_value)
    else:
        cited = " ; ".join(f"{c.name} = {c.value}" for c in result.cells)
        result.message = MSG_DEFAULT_CONDITION.format(
            condition=control.condition.lstrip("="),
            values=f" Valeurs : {cited}." if cited else "",
        )
    return result


def _finish_comparison(control, ctx, rules, values, result) -> ControlResult:
    left, right = values["left"], values["right"]
    data_type, number_format = _display_type(rules["left"], ctx.fields)
    if rules["left"].single_field is None and rules["right"].single_field is not None:
        data_type, number_format = _display_type(rules["right"], ctx.fields)
    tolerance = float(control.tolerance)
    passed = _compare(left, right, control.operator, tolerance)
    result.status = PASSED if passed else FAILED
    result.left = _shown(left, data_type, number_format)
    result.right = _shown(right, data_type, number_format)
    if _is_number(left) and _is_number(right):
        result.gap = _shown(abs(left - right), data_type, number_format)
    shown_tolerance = _shown(tolerance, data_type, number_format) if tolerance else "0"
    values = {
        "gauche": result.left,
        "droite": result.right,
        "ecart": result.gap or "—",
        "tolerance": shown_tolerance,
        "operateur": OPERATOR_WORDS[control.operator],
        "valeur": "VRAI" if passed else "FAUX",
    }
    if control.message:
        result.message = _render(control.message, values, ctx.field_value)
    else:
        result.message = MSG_DEFAULT_COMPARISON.format(
            left=control.left.lstrip("="),
            operator=OPERATOR_WORDS[control.operator],
            right=control.right.lstrip("="),
            tolerance=f" à {shown_tolerance} près" if tolerance else "",
            gauche=result.left,
            droite=result.right,
            ecart=values["ecart"],
        )
    return result


def _aggregate(aggregate: Aggregate, ctx: _Context) -> AggregateResult:
    result = AggregateResult(aggregate.code, aggregate.label, aggregate.tab, "")
    rule = rule_compile(ctx.version, aggregate.formula)
    if rule.function is None:
        result.error = MSG_INVALID.format(side="formule", reason=rule.error)
        return result
    value = _scalar(rule.function(ctx.v))
    if value.__class__ is XLError:
        result.value = value.code
        result.error = ERROR_MEANINGS.get(value.code, "erreur")
        return result
    data_type = aggregate.data_type
    number_format = ""
    if data_type == Aggregate.DataType.AMOUNT and rule.single_field:
        number_format = ctx.fields[rule.single_field].number_format
    result.value = _shown(value, data_type, number_format)
    return result


def variance_warnings(dossier, previous: dict, *, exercise: int) -> list[VarianceWarning]:
    """The dossier's values far from ``previous`` (last year's transmitted values and
    computed values), in the form's order, with where each cell is."""
    version = dossier.form_version
    positions = _sheet_positions(version)
    flags = variance_flags(version, dossier.values, dossier.computed, previous, exercise=exercise)
    warnings = [
        VarianceWarning(
            flag,
            positions.get(flag.sheet),
            f"{flag.sheet}!{get_column_letter(flag.column)}{flag.row}",
        )
        for flag in flags.values()
    ]
    return sorted(
        warnings,
        key=lambda w: (
            w.sheet_index if w.sheet_index is not None else math.inf,
            w.flag.row,
            w.flag.column,
        ),
    )


# services -----------------------------------------------------------------------------------
def dossier_verify(
    dossier,
    *,
    previous: dict | None = None,
    previous_exercise: int | None = None,
    v: list | None = None,
) -> VerificationReport:
    """Run every enabled control and every aggregate of the dossier's form version; with
    ``previous`` (last year's transmitted values), the variance warnings too. ``v``: the
    dossier's values list when the caller has just evaluated it."""
    ctx = _Context(dossier, v)
    controls = Control.objects.filter(version_id=dossier.form_version_id, enabled=True)
    aggregates = Aggregate.objects.filter(version_id=dossier.form_version_id)
    return VerificationReport(
        results=[_check(control, ctx) for control in controls],
        aggregates=[_aggregate(aggregate, ctx) for aggregate in aggregates],
        variances=(
            variance_warnings(dossier, previous, exercise=previous_exercise) if previous else []
        ),
    )


def _blocking_controls(version_id: int):
    return Control.objects.filter(
        version_id=version_id, enabled=True, severity=Control.Severity.BLOCKING
    )


def dossier_blocking_failures(dossier, v: list | None = None) -> list[ControlResult]:
    """The blocking controls the dossier fails: while there is one, it cannot be transmitted.

    ``v``: the dossier's values list when the caller has just computed it."""
    return _reported(_Context(dossier, v), _blocking_controls(dossier.form_version_id))


def _reported(ctx: _Context, controls) -> list[ControlResult]:
    """The reports of those of ``controls`` that block (failed or in error)."""
    return [r for r in (_check(control, ctx) for control in controls) if r.blocking]


@dataclass(frozen=True)
class BlockingChecks:
    """The enabled blocking controls of a form version with their compiled rules, and the
    cells those rules read: what every save needs to keep the failing-controls count.

    ``stamp`` is the rules stamp they were read at: a dossier's stored verdicts
    (``Dossier.failing_checks``) hold for these checks only when they carry the same stamp."""

    checks: tuple[tuple[Control, dict[str, CompiledRule]], ...]
    reads: frozenset[int]
    # the cells the controls' messages cite (``{NAME}``): what a report reads besides
    cited: frozenset[int] = frozenset()
    stamp: str = ""

    def failing_ids(self, v: list, only: tuple[int, ...] | None = None) -> list[int]:
        """The ids of the controls ``v`` fails, among the checks at positions ``only`` (all
        by default); ``v`` need only be exact for the cells those read."""
        checks = self.checks if only is None else [self.checks[i] for i in only]
        return sorted(control.pk for control, rules in checks if _fails(control, rules, v))

    def verdicts(self, v: list) -> dict:
        """What a dossier stores of its blocking controls (``Dossier.failing_checks``): the
        rules stamp and the ids of the failing ones."""
        return {"rules": self.stamp, "ids": self.failing_ids(v)}

    def verdicts_after(self, stored: dict, v: list, depending: tuple[int, ...]) -> dict | None:
        """The stored verdicts after a change that only the checks at positions
        ``depending`` read (``v`` exact for their cells): those are evaluated again, the
        others keep their stored verdict. None when ``stored`` is not of these checks (the
        rules changed since): every check must then be evaluated."""
        if not stored or stored.get("rules") != self.stamp:
            return None
        again = {self.checks[i][0].pk for i in depending}
        kept = [pk for pk in stored.get("ids", ()) if pk not in again]
        return {"rules": self.stamp, "ids": sorted(kept + self.failing_ids(v, depending))}

    def stored_failing(self, stored: dict | None) -> tuple[int, ...] | None:
        """The positions of the checks the stored verdicts say fail, or None when they are
        not of these checks (another version, other rules, or none: a snapshot)."""
        if not stored or stored.get("rules") != self.stamp:
            return None
        ids = set(stored["ids"])
        return tuple(i for i, (control, _) in enumerate(self.checks) if control.pk in ids)

    @cached_property
    def _by_cell(self) -> dict[int, tuple[int, ...]]:
        by_cell: dict[int, list[int]] = {}
        for position, (_, rules) in enumerate(self.checks):
            for cid in frozenset().union(*(rule.reads for rule in rules.values())):
                by_cell.setdefault(cid, []).append(position)
        return {cid: tuple(positions) for cid, positions in by_cell.items()}

    def depending(self, cells) -> tuple[int, ...]:
        """The positions of the checks that read any of ``cells``."""
        by_cell = self._by_cell
        found = {position for cid in cells for position in by_cell.get(cid, ())}
        return tuple(sorted(found))

    def reads_of(self, positions: tuple[int, ...]) -> frozenset[int]:
        """The cells the checks at ``positions`` read."""
        return frozenset().union(
            *(rule.reads for i in positions for rule in self.checks[i][1].values())
        )


def dossier_blocking_failures_stored(dossier) -> list[ControlResult]:
    """:func:`dossier_blocking_failures` run on the dossier's stored values (see
    :func:`~forms_cms.services.runtime.stored_values_list`): the cells the rules and the
    messages read, no recalculation."""
    form = compiled_form(dossier.form_version)
    checks = blocking_checks(dossier.form_version)
    # the verdicts each save keeps: a report, with its formatted values and cell links, only
    # for the controls that fail, from the cells those read; verdicts of other rules (a
    # snapshot, or not recounted yet): every control runs
    positions = checks.stored_failing(getattr(dossier, "failing_checks", None))
    read = checks.reads if positions is None else checks.reads_of(positions)
    reads = read | checks.cited
    v = stored_values_list(form, dossier.values, dossier.computed, reads)
    if positions is None:
        positions = tuple(i for i, (c, rules) in enumerate(checks.checks) if _fails(c, rules, v))
    return _reported(_Context(dossier, v), [checks.checks[i][0] for i in positions])


def dossier_blocking_outline(dossier) -> list[ControlResult] | None:
    """The failing blocking controls as the dossier's stored verdicts name them, with their
    sheets and cells but neither values nor messages (status FAILED, an error included):
    what the sheet page's tabs and counts need, no control run. None when the verdicts are
    not of the current rules (or not of these values): run the controls then."""
    checks = blocking_checks(dossier.form_version)
    positions = checks.stored_failing(getattr(dossier, "failing_checks", None))
    if positions is None:
        return None
    ctx = _Context(dossier)
    return [_result(*checks.checks[i], ctx, FAILED, values=False) for i in positions]


def blocking_checks(version) -> BlockingChecks:
    """``version``'s blocking checks, kept by the process per version and rules stamp
    (``FormVersion.rules_changed_at``, moved by every write of its controls on any node):
    read once (one query) per edit of the rules instead of on every save."""
    stamp = version.rules_changed_at.isoformat() if version.rules_changed_at else ""
    return _blocking_checks(connection.schema_name, version.pk, stamp, version)


@lru_cache(maxsize=64)
def _blocking_checks(schema: str, version_id: int, stamp: str, version) -> BlockingChecks:
    # ``version`` adds nothing to the key (a model instance hashes and compares by its pk):
    # it is what the rules are compiled for
    controls = _blocking_controls(version_id)
    checks = tuple((control, _rules(control, version)) for control in controls)
    reads = frozenset().union(*(rule.reads for _, rules in checks for rule in rules.values()))
    form = compiled_form(version)
    cited = frozenset(
        form.names[form.folded_names[key.strip().upper()]]
        for control, _ in checks
        for key in PLACEHOLDER.findall(control.message or "")
        if key.strip().upper() in form.folded_names
    )
    # the version in the stamp: a dossier's verdicts on another version never pass for these
    return BlockingChecks(checks, reads, cited, f"{version_id}@{stamp}")


# the declarant's checklist: what is left to do, sheet by sheet ---------------------------------
#
# A failing blocking control is listed on every sheet holding a field it reads (its inputs and
# the computed fields it compares): the fix is on one of them, and the declarant looking at any
# of those sheets should know the control fails. When none of those sheets is shown in the
# online form (fields on hidden sheets, a rule reading no field), it goes to the control's own
# sheet, else to « Général », which has no tab. Counts per sheet may therefore add up to more
# than the dossier's count, which counts each control once.
@dataclass(frozen=True)
class MissingField:
    """A required input field left empty, and where to type it."""

    name: str
    label: str
    sheet: str
    sheet_index: int | None  # None: the sheet is not shown in the online form
    address: str


@dataclass(frozen=True)
class SheetFailure:
    """A failing blocking control as listed on one sheet, with the cell to go to there."""

    control: ControlResult
    cell: CellLink | None


@dataclass
class SheetChecklist:
    sheet: str
    sheet_index: int | None  # position of a sheet shown in the online form, else None
    required_total: int = 0
    missing: list[MissingField] = field(default_factory=list)
    blocking: list[SheetFailure] = field(default_factory=list)

    @property
    def required_filled(self) -> int:
        return self.required_total - len(self.missing)

    @property
    def has_problems(self) -> bool:
        return bool(self.missing or self.blocking)


@dataclass
class DossierChecklist:
    """Required fields left empty and failing blocking controls, grouped by sheet (in the
    form's order): what prevents validating or transmitting the dossier."""

    sheets: list[SheetChecklist]
    blocking: list[ControlResult]  # each failing blocking control once
    required_total: int

    @property
    def missing(self) -> list[MissingField]:
        return [m for group in self.sheets for m in group.missing]

    @property
    def required_filled(self) -> int:
        return self.required_total - len(self.missing)

    @property
    def percent(self) -> int:
        return completion_percent(self.required_filled, self.required_total)

    @property
    def to_fix(self) -> list[SheetChecklist]:
        return [group for group in self.sheets if group.has_problems]

    @property
    def ready(self) -> bool:
        return not self.to_fix

    def sheet(self, name: str) -> SheetChecklist | None:
        return next((group for group in self.sheets if group.sheet == name), None)


def completion_percent(filled: int, total: int) -> int:
    """Whole percent, rounded down so that 100 % means every required field is filled."""
    if total == 0:
        return 100
    return filled * 100 // total


def _hidden_sheets(version) -> frozenset[str]:
    return frozenset(sheet.name for sheet in version_sheets(version) if sheet.hidden)


def _is_empty(value) -> bool:
    return value is None or value == ""


def required_progress(dossier) -> tuple[int, int]:
    """(required input fields filled, required input fields) — no evaluation, for lists."""
    required = [
        info.name
        for info in version_fields(dossier.form_version).values()
        if info.required and not info.computed
    ]
    filled = sum(1 for name in required if not _is_empty(dossier.values.get(name)))
    missing_rows, row_total = 0, 0
    for _meta, _row, _column, missing in _required_table_cells(dossier):
        row_total += 1
        missing_rows += missing
    return filled + row_total - missing_rows, len(required) + row_total


def _required_table_cells(dossier):
    """(table, row index, column, missing) for each required column of each row of each table."""
    tables = version_tables(dossier.form_version)
    for name, meta in tables.items():
        required = [c for c in meta.inputs if c.required]
        if not required:
            continue
        rows = dossier.values.get(name)
        if rows is None:
            rows = table_rows_stored(compiled_form(dossier.form_version), name)
        for i, row in enumerate(rows):
            for column in required:
                yield meta, i, column, _is_empty(row.get(column.name))


def dossier_checklist(dossier, blocking: list[ControlResult] | None = None) -> DossierChecklist:
    """The dossier's checklist; ``blocking`` the failing blocking controls when already known
    (a verification report's), else they are run here."""
    if blocking is None:
        blocking = dossier_blocking_failures(dossier)
    version = dossier.form_version
    fields = version_fields(version)
    positions = _sheet_positions(version)
    hidden = _hidden_sheets(version)

    def shown_index(sheet: str) -> int | None:
        return None if sheet in hidden else positions.get(sheet)

    groups: dict[str, SheetChecklist] = {}

    def group(sheet: str) -> SheetChecklist:
        if sheet not in groups:
            groups[sheet] = SheetChecklist(sheet, shown_index(sheet))
        return groups[sheet]

    required = sorted(
        (info for info in fields.values() if info.required and not info.computed),
        key=lambda i: (positions.get(i.sheet, math.inf), i.sheet, i.row, i.column),
    )
    for info in required:
        target = group(info.sheet)
        target.required_total += 1
        if _is_empty(dossier.values.get(info.name)):
            target.missing.append(
                MissingField(
                    name=info.name,
                    label=info.label,
                    sheet=info.sheet,
                    sheet_index=target.sheet_index,
                    address=f"{info.sheet}!{get_column_letter(info.column)}{info.row}",
                )
            )
    table_required = 0
    for meta, i, column, missing in _required_table_cells(dossier):
        target = group(column.sheet)
        target.required_total += 1
        table_required += 1
        if missing:
            target.missing.append(
                MissingField(
                    name=f"{meta.name}[{i + 1}].{column.name}",
                    label=f"{column.label} (tableau {meta.name}, ligne {i + 1})",
                    sheet=column.sheet,
                    sheet_index=target.sheet_index,
                    address=f"{column.sheet}!{get_column_letter(column.column)}{column.row + i}",
                )
            )
    for result in blocking:
        sheets = [s for s in result.field_sheets if shown_index(s) is not None]
        for sheet in sheets or [result.sheet]:
            here = [c for c in result.cells if c.sheet == sheet]
            inputs = [c for c in here if c.name in fields and not fields[c.name].computed]
            cell = (inputs or here or [None])[0]
            group(sheet).blocking.append(SheetFailure(result, cell))
    ordered = sorted(
        groups.values(),
        key=lambda g: (positions.get(g.sheet, math.inf), g.sheet),
    )
    return DossierChecklist(
        sheets=ordered, blocking=list(blocking), required_total=len(required) + table_required
    )
