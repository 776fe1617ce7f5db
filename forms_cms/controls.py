"""Controls (contrôles métiers) and key aggregates of a form version: compiling, managing,
carrying them over to the next version.

Rules are written in Excel formula syntax over field names and compiled by the form's own
engine (``CompiledForm.expression``): a rule that does not compile is refused with the
engine's French message, naming the field or function, and nothing is saved. Compiled rules
are cached per process by (schema, version, formula text): a version's form never changes
and a rule's function depends on nothing else, so an edited rule simply gets a new entry.

These services are the only write path for controls and aggregates (the gestionnaire's screens
in ``views_controls.py`` call them; the Wagtail admin only lists them): each write is
journalled in Wagtail's log (``harmonia.control_*``, ``harmonia.aggregate_*``), moves the
version's ``rules_changed_at`` stamp and is followed, once committed, by
:data:`forms_cms.signals.version_rules_changed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from wagtail.log_actions import log

from accounts.models import Role
from forms_cms.engine import ExpressionError, expression_compile, runtime_namespace
from forms_cms.models import Aggregate, Control, FormVersion
from forms_cms.services.runtime import compiled_form
from forms_cms.signals import send_on_commit, version_rules_changed

MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme peut gérer les contrôles."
MSG_REQUIRED = "Ce champ est obligatoire pour ce type de contrôle."
MSG_CODE_TAKEN = "Le code {code} est déjà utilisé par un autre {what} de cette version."
MSG_UNKNOWN_SHEET = "La feuille « {sheet} » n'existe pas dans cette version du formulaire."
MSG_PLACEHOLDER = (
    "Le message cite {{{name}}} : ce n'est ni une valeur du contrôle ({{gauche}}, {{droite}}, "
    "{{ecart}}, {{tolerance}}, {{operateur}}, {{valeur}}) ni un champ du formulaire."
)
MSG_TOLERANCE = "La tolérance est un nombre positif ou nul."
MSG_NO_PREVIOUS = "Cette version n'a pas de version précédente : rien à reprendre."
MSG_ALREADY = "un {what} de même code existe déjà dans cette version"

# values a message may cite, besides field names
MESSAGE_VALUES = ("gauche", "droite", "ecart", "tolerance", "operateur", "valeur")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class RuleRefused(Exception):
    """Nothing was saved: ``errors`` maps a form field ("left", "code"…) to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k} : {v}" for k, v in errors.items()))


# compiling ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledRule:
    """A formula compiled against a form: ``function(v)`` or the reason it does not compile.

    ``names`` are the fields it reads, in the order the formula cites them."""

    text: str
    function: object | None
    names: tuple[str, ...] = ()
    error: str | None = None
    # the cells ``function`` reads (its fields, every column of the tables it aggregates)
    reads: frozenset[int] = frozenset()

    @property
    def single_field(self) -> str | None:
        """The field's name when the formula is just that field (``=TOTAL_ACTIF``)."""
        bare = self.text.lstrip("=").strip()
        if len(self.names) == 1 and bare.upper() == self.names[0].upper():
            return self.names[0]
        return None


def normalized(text: str) -> str:
    text = (text or "").strip()
    return text if text.startswith("=") else f"={text}"


WORD = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.]*")


@lru_cache(maxsize=32)
def _folded_names(schema: str, version_id: int) -> dict[str, tuple[str, int]]:
    form = compiled_form(FormVersion(pk=version_id))
    return {name.upper(): (name, cid) for name, cid in form.names.items()}


@lru_cache(maxsize=8192)
def _rule(schema: str, version_id: int, text: str) -> CompiledRule:
    # the engine indexes every name it is given: give it only the words the formula cites
    # (a 10,000-field form would otherwise cost ~1 ms per rule instead of ~30 µs)
    folded = _folded_names(schema, version_id)
    words = {w.upper() for w in WORD.findall(text)}
    cited = dict(folded[w] for w in words if w in folded)
    # multivalued tables the formula aggregates (SUM(Filiales[Capital]))
    tables = [
        table
        for name, table in compiled_form(FormVersion(pk=version_id)).tables.items()
        if name.upper() in words
    ]
    try:
        source, deps = expression_compile(text, cited, tables)
    except ExpressionError as exc:
        return CompiledRule(text, None, error=str(exc))
    namespace = runtime_namespace()
    exec(f"def rule(v):\n    return {source}\n", namespace)  # noqa: S102 - generated by the engine
    by_id = {cid: name for name, cid in cited.items() if cid in deps}
    upper = text.upper()

    def cited_at(name: str) -> int:
        found = re.search(rf"(?<![A-Z0-9_.]){re.escape(name.upper())}(?![A-Z0-9_.(])", upper)
        return found.start() if found else len(upper)

    by_id.update({t.anchor: t.name for t in tables})
    names = tuple(sorted(by_id.values(), key=lambda n: (cited_at(n), n)))
    reads = frozenset(deps) | {c.slot for t in tables for c in t.columns}
    return CompiledRule(text, namespace["rule"], names, reads=reads)


def rule_compile(version, text: str) -> CompiledRule:
    """A formula over field names compiled for ``version`` (cached per process)."""
    return _rule(connection.schema_name, version.pk, normalized(text))


def _compile_or_error(version, text: str) -> str | None:
    return rule_compile(version, text).error


def _message_errors(version, message: str) -> str | None:
    names = {n.upper() for n in compiled_form(version).names}
    for placeholder in PLACEHOLDER.findall(message or ""):
        key = placeholder.strip()
        if key.lower() not in MESSAGE_VALUES and key.upper() not in names:
            return MSG_PLACEHOLDER.format(name=key)
    return None


# checks -------------------------------------------------------------------------------------
CONTROL_FIELDS = (
    "code",
    "label",
    "kind",
    "left",
    "operator",
    "right",
    "tolerance",
    "condition",
    "severity",
    "enabled",
    "message",
    "sheet",
    "position",
)
AGGREGATE_FIELDS = ("code", "label", "tab", "formula", "data_type", "position")


def control_problems(version, values: dict, *, exclude_pk=None) -> dict[str, str]:
    """What is wrong with a control's values for ``version`` (form field → French message)."""
    errors: dict[str, str] = {}
    code = (values.get("code") or "").strip()
    others = Control.objects.filter(version=version, code__iexact=code).exclude(pk=exclude_pk)
    if code and others.exists():
        errors["code"] = MSG_CODE_TAKEN.format(code=code, what="contrôle")
    condition = values.get("kind") == Control.Kind.CONDITION
    for side in ("condition",) if condition else ("left", "right"):
        text = (values.get(side) or "").strip()
        if not text or text == "=":
            errors[side] = MSG_REQUIRED
        elif problem := _compile_or_error(version, text):
            errors[side] = problem
    if (values.get("tolerance") or 0) < 0:
        errors["tolerance"] = MSG_TOLERANCE
    if problem := _message_errors(version, values.get("message", "")):
        errors["message"] = problem
    sheet = values.get("sheet") or ""
    if sheet and not version.sheets.filter(name=sheet).exists():
        errors["sheet"] = MSG_UNKNOWN_SHEET.format(sheet=sheet)
    return errors


def aggregate_problems(version, values: dict, *, exclude_pk=None) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = (values.get("code") or "").strip()
    others = Aggregate.objects.filter(version=version, code__iexact=code).exclude(pk=exclude_pk)
    if code and others.exists():
        errors["code"] = MSG_CODE_TAKEN.format(code=code, what="agrégat")
    text = (values.get("formula") or "").strip()
    if not text or text == "=":
        errors["formula"] = MSG_REQUIRED
    elif problem := _compile_or_error(version, text):
        errors["formula"] = problem
    return errors


def _check_gestionnaire(acting_user) -> None:
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)


def _clean(values: dict, allowed: tuple[str, ...]) -> dict:
    cleaned = {k: v for k, v in values.items() if k in allowed}
    for key in ("code", "label", "left", "right", "condition", "formula", "tab", "sheet"):
        if isinstance(cleaned.get(key), str):
            cleaned[key] = cleaned[key].strip()
    for key in ("left", "right", "condition", "formula"):
        if cleaned.get(key):
            cleaned[key] = normalized(cleaned[key])
    if cleaned.get("kind") == Control.Kind.CONDITION:
        cleaned["left"] = cleaned["right"] = ""
    elif "kind" in cleaned:
        cleaned["condition"] = ""
    return cleaned


def _next_position(queryset) -> int:
    return (queryset.aggregate(top=Max("position"))["top"] or 0) + 10


def _changed(rule, values: dict) -> dict[str, list]:
    """name → [before, after] for the values that differ from the rule's (for the journal)."""
    return {
        name: [getattr(rule, name), value]
        for name, value in values.items()
        if getattr(rule, name) != value
    }


def _journal(rule, action: str, acting_user, version: FormVersion, **data) -> None:
    """One entry in the platform's administrative journal (Wagtail's log), and the news that
    the version's rules changed, sent once the transaction commits. Call it inside the
    service's transaction, after every check passed: a refused change neither journals nor
    signals."""
    log(
        instance=rule,
        action=action,
        user=acting_user,
        data={"version": version.code, "code": rule.code, **data},
        deleted=action.endswith("_deleted"),
    )
    _rules_changed(version)


def _rules_changed(version: FormVersion) -> None:
    """Move the version's rules stamp (the key of the blocking checks every process keeps,
    :func:`forms_cms.verification.blocking_checks`) and tell the platform once committed."""
    version.rules_changed_at = timezone.now()
    FormVersion.objects.filter(pk=version.pk).update(rules_changed_at=version.rules_changed_at)
    send_on_commit(version_rules_changed, version)


# controls -----------------------------------------------------------------------------------
def control_create(*, version: FormVersion, values: dict, acting_user) -> Control:
    """A new control on ``version``; raises :class:`RuleRefused` (nothing saved)."""
    _check_gestionnaire(acting_user)
    values = _clean(values, CONTROL_FIELDS)
    with transaction.atomic():
        FormVersion.objects.select_for_update().get(pk=version.pk)
        if errors := control_problems(version, values):
            raise RuleRefused(errors)
        if not values.get("position"):
            values["position"] = _next_position(version.controls)
        control = Control.objects.create(
            version=version, created_by=acting_user, updated_by=acting_user, **values
        )
        _journal(control, "harmonia.control_created", acting_user, version, formula=control.formula)
    return control


def control_update(*, control: Control, values: dict, acting_user) -> Control:
    _check_gestionnaire(acting_user)
    values = _clean(values, CONTROL_FIELDS)
    with transaction.atomic():
        locked = Control.objects.select_for_update().get(pk=control.pk)
        merged = {name: getattr(locked, name) for name in CONTROL_FIELDS} | values
        if errors := control_problems(locked.version, merged, exclude_pk=locked.pk):
            raise RuleRefused(errors)
        changes = _changed(locked, values)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_by = acting_user
        locked.save()
        if changes:
            _journal(
                locked, "harmonia.control_updated", acting_user, locked.version, changes=changes
            )
    return locked


def control_enable(*, control: Control, enabled: bool, acting_user) -> Control:
    """Enable or disable a control (a disabled control is skipped by the verification)."""
    _check_gestionnaire(acting_user)
    with transaction.atomic():
        locked = Control.objects.select_for_update().get(pk=control.pk)
        control.enabled = enabled
        control.updated_by = acting_user
        control.save(update_fields=["enabled", "updated_by", "updated_at"])
        if locked.enabled != enabled:
            action = "harmonia.control_enabled" if enabled else "harmonia.control_disabled"
            _journal(control, action, acting_user, control.version)
    return control


def control_delete(*, control: Control, acting_user) -> None:
    _check_gestionnaire(acting_user)
    with transaction.atomic():
        # journalled first, while the row still has its key
        _journal(
            control,
            "harmonia.control_deleted",
            acting_user,
            control.version,
            formula=control.formula,
        )
        control.delete()


# aggregates ---------------------------------------------------------------------------------
def aggregate_create(*, version: FormVersion, values: dict, acting_user) -> Aggregate:
    _check_gestionnaire(acting_user)
    values = _clean(values, AGGREGATE_FIELDS)
    with transaction.atomic():
        FormVersion.objects.select_for_update().get(pk=version.pk)
        if errors := aggregate_problems(version, values):
            raise RuleRefused(errors)
        if not values.get("position"):
            values["position"] = _next_position(version.aggregates)
        aggregate = Aggregate.objects.create(version=version, updated_by=acting_user, **values)
        _journal(
            aggregate, "harmonia.aggregate_created", acting_user, version, formula=aggregate.formula
        )
    return aggregate


def aggregate_update(*, aggregate: Aggregate, values: dict, acting_user) -> Aggregate:
    _check_gestionnaire(acting_user)
    values = _clean(values, AGGREGATE_FIELDS)
    with transaction.atomic():
        locked = Aggregate.objects.select_for_update().get(pk=aggregate.pk)
        merged = {name: getattr(locked, name) for name in AGGREGATE_FIELDS} | values
        if errors := aggregate_problems(locked.version, merged, exclude_pk=locked.pk):
            raise RuleRefused(errors)
        changes = _changed(locked, values)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_by = acting_user
        locked.save()
        if changes:
            _journal(
                locked, "harmonia.aggregate_updated", acting_user, locked.version, changes=changes
            )
    return locked


def aggregate_delete(*, aggregate: Aggregate, acting_user) -> None:
    _check_gestionnaire(acting_user)
    with transaction.atomic():
        _journal(
            aggregate,
            "harmonia.aggregate_deleted",
            acting_user,
            aggregate.version,
            formula=aggregate.formula,
        )
        aggregate.delete()


# carrying over to the next version ----------------------------------------------------------
@dataclass
class CarryOverItem:
    what: str  # "contrôle" or "agrégat"
    code: str
    label: str
    reason: str = ""


@dataclass
class CarryOver:
    """What taking over the previous version's rules does (or would do, on a dry run)."""

    previous: FormVersion | None
    copied: list[CarryOverItem] = field(default_factory=list)
    refused: list[CarryOverItem] = field(default_factory=list)  # do not compile any more
    skipped: list[CarryOverItem] = field(default_factory=list)  # same code already here


def _label_for(side: str) -> str:
    return {
        "left": "membre de gauche",
        "right": "membre de droite",
        "condition": "condition",
        "formula": "formule",
        "message": "message",
    }.get(side, side)


def controls_carry_over(*, version: FormVersion, acting_user, dry_run: bool = False) -> CarryOver:
    """Copy the previous version's controls and aggregates that still compile on ``version``.

    Those citing a field that no longer exists (or otherwise failing to compile) are listed
    in ``refused`` with the reason; codes already present on ``version`` are left alone."""
    _check_gestionnaire(acting_user)
    previous = version.previous
    report = CarryOver(previous=previous)
    if previous is None:
        raise RuleRefused({"__all__": MSG_NO_PREVIOUS})
    sheets = set(version.sheets.values_list("name", flat=True))
    with transaction.atomic():
        FormVersion.objects.select_for_update().get(pk=version.pk)
        codes = {c.upper() for c in version.controls.values_list("code", flat=True)}
        new_controls = []
        for control in previous.controls.all():
            item = CarryOverItem("contrôle", control.code, control.label)
            if control.code.upper() in codes:
                item.reason = MSG_ALREADY.format(what="contrôle")
                report.skipped.append(item)
                continue
            values = {name: getattr(control, name) for name in CONTROL_FIELDS}
            if values["sheet"] not in sheets:
                values["sheet"] = ""
            errors = control_problems(version, values)
            errors.pop("code", None)
            if errors:
                item.reason = " ; ".join(f"{_label_for(k)} : {v}" for k, v in errors.items())
                report.refused.append(item)
                continue
            report.copied.append(item)
            new_controls.append(
                Control(version=version, created_by=acting_user, updated_by=acting_user, **values)
            )
        codes = {c.upper() for c in version.aggregates.values_list("code", flat=True)}
        new_aggregates = []
        for aggregate in previous.aggregates.all():
            item = CarryOverItem("agrégat", aggregate.code, aggregate.label)
            if aggregate.code.upper() in codes:
                item.reason = MSG_ALREADY.format(what="agrégat")
                report.skipped.append(item)
                continue
            values = {name: getattr(aggregate, name) for name in AGGREGATE_FIELDS}
            errors = aggregate_problems(version, values)
            errors.pop("code", None)
            if errors:
                item.reason = " ; ".join(f"{_label_for(k)} : {v}" for k, v in errors.items())
                report.refused.append(item)
                continue
            report.copied.append(item)
            new_aggregates.append(Aggregate(version=version, updated_by=acting_user, **values))
        if not dry_run:
            Control.objects.bulk_create(new_controls)
            Aggregate.objects.bulk_create(new_aggregates)
            log(
                instance=version,
                action="harmonia.rules_carried_over",
                user=acting_user,
                data={
                    "version": version.code,
                    "previous": previous.code,
                    "copied": [f"{i.what} {i.code}" for i in report.copied],
                    "refused": [f"{i.what} {i.code} : {i.reason}" for i in report.refused],
                },
            )
            if report.copied:
                _rules_changed(version)
    return report
