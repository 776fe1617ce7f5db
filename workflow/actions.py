"""The dossier's one write gate: every change of a Dossier is one action of this module.

Opening, applying values (entry, XML import, synchronisation), moving to a new form version,
every lifecycle transition (the automatic first-entry one included) and refreshing the
derived state after the form's controls change. Each action, after Wagtail's ``actions/``
and Zulip's ``do_<verb>_<noun>(…, acting_user=)``:

1. one permission check (:class:`workflow.policy.DossierPolicy`),
2. a row lock (``SELECT … FOR UPDATE``),
3. the write,
4. one recomputation of all derived state (:func:`_derive`: computed values, revision,
   failing-controls count, and the step when the first value arrives),
5. one history row per change (``ValueChange``, ``StepChange``),
6. its side effects as signals (``workflow.signals``) whose receivers live in the apps
   they concern (partners' automatic transmissions, e-mails). Receivers run inside the
   action's transaction and queue whatever leaves the database (procrastinate's jobs are
   rows of the same database): a side effect happens exactly when the change commits,
   never for a change rolled back.

Purges (:func:`dossiers_purge`, planned by ``workflow.services.retention``) delete the
dossiers past the retention period with everything attached, in one logged operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F, Func, Value
from django.db.models.expressions import CombinedExpression, RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from django_fsm import can_proceed
from wagtail.log_actions import log

from forms_cms.carryover import version_rules
from forms_cms.selectors import DRAFT_READERS, current_version
from forms_cms.services.runtime import (
    PartialPlan,
    compiled_form,
    computed_of,
    dossier_evaluate,
    dossier_values_list,
    partial_evaluate,
    partial_plan,
)
from forms_cms.verification import blocking_checks
from forms_cms.xmlformat import dossier_xml
from organisms.services.platform_test import platform_test_organism_ensure
from tenants.jobs import tenant_task
from workflow.models import (
    Dossier,
    DossierExport,
    PurgeLog,
    Step,
    StepChange,
    ValueChange,
)
from workflow.policy import DossierPolicy
from workflow.services.lifecycle import (
    ACTIONS,
    MSG_COMMENT,
    MSG_NOT_NOW,
    MSG_SUBSTEP,
    MSG_UNKNOWN,
    LifecycleRefused,
    dossier_problems,
    transition_target,
)
from workflow.services.prefill import REGISTRY, prefill_values, previous_transmission
from workflow.services.retention import purge_plan
from workflow.signals import dossier_step_changed, dossier_values_changed

MSG_NO_VERSION = (
    "Le formulaire « {document} » de la {campaign} n'a pas encore été déposé par le "
    "gestionnaire : revenez plus tard."
)
MSG_NOT_FILED = (
    "« {document} » ne concerne pas votre organisme : il est déposé par {families}, et le vôtre "
    "est de la famille « {family} ». Les documents que vous devez déposer sont listés sur votre "
    "page « Dossiers »."
)
MSG_CLOSED = (
    "Le dossier est à l'étape « {step} » : il ne peut plus être modifié par l'organisme "
    "(la saisie et l'import sont ouverts aux étapes 1 à 3, ou quand le gestionnaire vous rend "
    "la main)."
)
MSG_CONFLICT = (
    "Modifié entre-temps par {who} à {when} (valeur actuelle : {current}). Votre saisie n'a pas "
    "été enregistrée : vérifiez la valeur affichée puis saisissez à nouveau si besoin."
)
MSG_TRIAL_ROLE = (
    "Seuls les gestionnaires et les éditeurs de logiciels de la plateforme peuvent essayer "
    "une version en brouillon."
)
MSG_TRIAL_PUBLISHED = (
    "La version {number} est publiée le {date} : un dossier d'essai ne s'ouvre que sur une "
    "version en brouillon. Essayez-la sur un vrai dossier de la campagne."
)
MSG_MIGRATION_ROLE = "Seul un gestionnaire de la plateforme peut migrer les dossiers."


class NoFormVersion(Exception):
    pass


class NotFiledByOrganism(NoFormVersion):
    """The document is neither required from the organism's family nor open to others."""


class DossierClosed(PermissionDenied):
    """The dossier is past the organism's steps: nothing is entered or imported."""


class SaveRefused(Exception):
    """Nothing was saved: ``errors`` (field → message) and ``conflicts`` (field → current)."""

    def __init__(self, errors: dict[str, str], conflicts: dict[str, object]):
        self.errors = errors
        self.conflicts = conflicts
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class SaveResult:
    saved: dict[str, object] = field(default_factory=dict)  # input fields, stored values
    computed: dict[str, object] = field(default_factory=dict)  # computed fields that changed
    revision: int = 0
    # the form's values list when the save evaluated the whole form (an import, a large
    # paste): what the caller's verification reads instead of evaluating it again
    evaluated: list | None = None


# --- derived state ----------------------------------------------------------------------------
def _failing_derive(dossier: Dossier, v: list | None = None) -> None:
    """Evaluate every blocking control of the dossier (on ``v``, its values list, when the
    caller holds it): the failing count and the verdicts kept with it."""
    if v is None:
        v = dossier_values_list(compiled_form(dossier.form_version), dossier.values)
    dossier.failing_checks = blocking_checks(dossier.form_version).verdicts(v)
    dossier.failing_controls = len(dossier.failing_checks["ids"])


def _derive(locked: Dossier) -> list[str]:
    """Recompute everything that follows from the values, from one evaluation of the form:
    the computed values and the failing blocking controls; returns the fields to save."""
    _evaluate(locked)
    return ["computed", "failing_controls", "failing_checks", "updated_at"]


def _evaluate(locked: Dossier) -> list:
    """:func:`_derive`'s work; returns the form's values list it evaluated."""
    form = compiled_form(locked.form_version)
    v = dossier_values_list(form, locked.values)
    locked.computed = computed_of(form, v)
    _failing_derive(locked, v)
    return v


def _cells(plan: PartialPlan):
    """The cells a save of ``plan`` changes (the fields' and the tables' input cells)."""
    return (cid for cells in plan.changed.values() for cid in cells)


def _jsonb_patch(column: str, changed: dict, removed: list[str]):
    """``column || changed - removed`` (``jsonb_set`` for a few keys): PostgreSQL merges the
    keys that changed into the stored document; the ~10,000 values that did not change are
    neither sent nor re-serialised by Python."""
    expression = F(column)
    if len(changed) <= JSONB_SET_MAX:
        # a few keys (most cell saves): jsonb_set keeps the other values' nested containers as
        # they are where ``||`` rebuilds them all (on a full ER's documents, one key ~0.8 ms
        # against ~1.5, three ~1.4 against ~1.8; from eight keys on, ``||`` is cheaper)
        for key, value in changed.items():
            expression = Func(
                expression,
                Cast(Value([key]), ArrayField(models.TextField())),
                Value(value, output_field=models.JSONField()),
                function="jsonb_set",
                output_field=models.JSONField(),
            )
    elif changed:
        patch = Value(changed, output_field=models.JSONField())
        expression = CombinedExpression(expression, "||", patch, output_field=models.JSONField())
    if removed:
        keys = Cast(Value(removed), ArrayField(models.TextField()))
        expression = CombinedExpression(expression, "-", keys, output_field=models.JSONField())
    return expression


def _lock(dossier: Dossier, plan: PartialPlan | None = None) -> Dossier:
    """The dossier's row, locked; with ``plan``, without its ``values`` and ``computed``
    but with the parts ``plan`` names (``part_values``, ``part_computed``)."""
    # the form version is read again (its rules stamp decides which checks apply); the other
    # relations are the caller's when it holds them (ids compared), else read if ever used
    rows = Dossier.all_objects.select_for_update(of=("self",)).select_related("form_version")
    if plan is not None:
        # the column names are constants; the keys are parameters
        rows = rows.defer("values", "computed").annotate(
            part_values=RawSQL(PART.format(column='"values"'), (list(plan.value_keys),),  # noqa: S611
                               output_field=models.JSONField()),
            part_computed=RawSQL(PART.format(column="computed"), (list(plan.computed_keys),),  # noqa: S611
                                 output_field=models.JSONField()),
        )  # fmt: skip
    locked = rows.get(pk=dossier.pk)
    for name in SHARED_RELATIONS:
        relation = Dossier._meta.get_field(name)
        if relation.is_cached(dossier) and getattr(dossier, relation.attname) == getattr(
            locked, relation.attname
        ):
            relation.set_cached_value(locked, relation.get_cached_value(dossier))
    return locked


# what the lock takes from the caller's instance rather than joining again (rows the write
# gate never changes)
SHARED_RELATIONS = ("organism", "campaign", "document_type", "substep")


# the keys of a stored document a save needs (PostgreSQL reads the document; Python decodes
# a few dozen values instead of ~10,000)
PART = (
    "(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(workflow_dossier.{column}) e"
    " WHERE e.key = ANY(%s))"
)
# up to this many changed keys are merged with chained jsonb_set, more with ``||``
JSONB_SET_MAX = 3
# a save of at most this many fields recomputes only what they affect, from the stored values;
# more (an import, a large paste) evaluates the whole form
PARTIAL_MAX = 50


def _mirror(dossier: Dossier, locked: Dossier, result: SaveResult | None = None) -> None:
    """The caller's instance shows the saved row (no second query). After a partial save
    (``locked`` without its documents), the caller's documents, when it holds the previous
    revision's, get the saved and recomputed values; otherwise they are read again when the
    caller asks for them."""
    deferred = locked.get_deferred_fields()
    if deferred and result is not None:
        current = dossier.revision == locked.revision - 1 or not result.saved
        for name, changes in (("values", result.saved), ("computed", result.computed)):
            if name not in deferred:
                continue
            held = dossier.__dict__.get(name)
            if held is None or not current:
                dossier.__dict__.pop(name, None)
                continue
            merged = {**held, **changes}
            dossier.__dict__[name] = {k: x for k, x in merged.items() if x is not None}
    for name in (
        "values", "computed", "prefilled", "revision", "step", "substep_id", "form_version_id",
        "failing_controls", "failing_checks", "transmitted_at", "updated_at",
    ):  # fmt: skip
        if name not in deferred:
            setattr(dossier, name, getattr(locked, name))
    if dossier.form_version_id == locked.form_version_id:
        dossier.form_version = locked.form_version


def _record_step(locked: Dossier, action: str, before_step, before_substep, acting_user,
                 comment: str = "") -> StepChange:  # fmt: skip
    return StepChange.objects.create(
        dossier=locked,
        transition=action,
        from_step=before_step,
        from_substep=before_substep.code if before_substep else "",
        to_step=locked.step,
        to_substep=locked.substep.code if locked.substep else "",
        comment=comment.strip(),
        changed_by=acting_user,
    )


# --- opening ----------------------------------------------------------------------------------
def dossier_open(*, organism, campaign, document_type, acting_user) -> Dossier:
    """The organism's dossier for this campaign and document, created on first access."""
    DossierPolicy(acting_user, Dossier(organism=organism)).require_owner()
    existing = Dossier.objects.filter(
        organism=organism, campaign=campaign, document_type=document_type
    ).first()
    if existing is not None:
        return existing
    if not document_type.may_file(organism):
        raise NotFiledByOrganism(
            MSG_NOT_FILED.format(
                document=document_type.label,
                family=organism.get_family_display(),
                families=document_type.families_label,
            )
        )
    version = current_version(document_type, campaign)
    if version is None:
        raise NoFormVersion(
            MSG_NO_VERSION.format(document=document_type.label, campaign=str(campaign).lower())
        )
    with transaction.atomic():
        dossier, created = _dossier_get_or_create(
            version,
            trial=False,
            organism=organism,
            campaign=campaign,
            document_type=document_type,
        )
        if created:
            dossier_prefill(dossier=dossier, acting_user=acting_user)
    return dossier


def _dossier_get_or_create(version, *, trial: bool, defaults=None, **lookup):
    """(dossier, created): the dossier ``lookup`` names, or a new one on ``version`` with its
    computed values and an exact failing count from the start (a control may fail on an empty
    form: pages trust a zero and skip running the controls)."""
    dossier, created = Dossier.all_objects.get_or_create(
        trial=trial,
        defaults={
            **(defaults or {}),
            "form_version": version,
            "computed": dossier_evaluate(compiled_form(version), {}),
        },
        **lookup,
    )
    if created:
        _failing_derive(dossier)
        Dossier.all_objects.filter(pk=dossier.pk).update(
            failing_controls=dossier.failing_controls, failing_checks=dossier.failing_checks
        )
    return dossier, created


def dossier_trial_open(*, version, acting_user) -> Dossier:
    """The trial dossier of a draft form version, created on first access: on the platform's
    test organism, tried by its gestionnaires and editors (entry, import, verification, PDF)
    and never transmitted nor counted (``Dossier.objects`` leaves it out)."""
    if not (
        getattr(acting_user, "is_authenticated", False)
        and acting_user.is_active
        and acting_user.role in DRAFT_READERS
    ):
        raise PermissionDenied(MSG_TRIAL_ROLE)
    if not version.is_draft:
        raise PermissionDenied(
            MSG_TRIAL_PUBLISHED.format(
                number=version.number,
                date=timezone.localtime(version.published_at).strftime("%d/%m/%Y"),
            )
        )
    existing = Dossier.all_objects.filter(trial=True, form_version=version).first()
    if existing is not None:
        return existing
    document_type = version.document_type
    with transaction.atomic():
        organism = platform_test_organism_ensure()
        dossier, created = _dossier_get_or_create(
            version,
            trial=True,
            form_version=version,
            defaults={
                "organism": organism,
                "campaign_id": version.campaign_id,
                "document_type": document_type,
            },
        )
        if created:
            log(instance=version, action="harmonia.dossier_trial_opened", user=acting_user)
    return dossier


def dossier_prefill(*, dossier: Dossier, acting_user) -> dict[str, object]:
    """Fill the dossier's empty input fields from the registry and from the previous
    exercise's last transmission, by its form version's carry-over rules; never a field that
    holds a value. The fields filled are marked (``Dossier.prefilled``) until edited, and
    recorded in the history with their own source. The step does not move: nothing was
    entered by the organism yet. Returns the values written."""
    DossierPolicy(acting_user, dossier).require_owner()
    with transaction.atomic():
        locked = _lock(dossier)
        if not locked.accepts_entries:
            raise DossierClosed(MSG_CLOSED.format(step=locked.get_step_display()))
        previous = previous_transmission(
            organism=locked.organism,
            document_type=locked.document_type,
            exercise=locked.campaign.exercise - 1,
        )
        prefill = prefill_values(
            dossier=locked, rules=version_rules(locked.form_version), previous=previous
        )
        if not prefill.values:
            return {}
        locked.values = {**locked.values, **prefill.values}
        locked.prefilled = {**locked.prefilled, **prefill.marks}
        locked.revision += 1
        locked.save(update_fields=["values", "prefilled", "revision", *_derive(locked)])
        ValueChange.objects.bulk_create(
            ValueChange(
                dossier=locked,
                field_name=name,
                old_value=None,
                new_value=value,
                source=(
                    ValueChange.Source.REGISTRY
                    if prefill.marks[name] == REGISTRY
                    else ValueChange.Source.CARRY_OVER
                ),
                note=prefill.sources[name][:255],
                changed_by=acting_user,
            )
            for name, value in prefill.values.items()
        )
        dossier_values_changed.send(
            sender=Dossier,
            dossier=locked,
            source=ValueChange.Source.CARRY_OVER,
            names=sorted(prefill.values),
            acting_user=acting_user,
        )
    _mirror(dossier, locked)
    return prefill.values


# --- values -----------------------------------------------------------------------------------
def _describe_last_change(dossier: Dossier, name: str) -> tuple[str, str]:
    last = (
        ValueChange.objects.filter(dossier=dossier, field_name=name)
        .select_related("changed_by")
        .first()
    )
    if last is None:
        return "un autre utilisateur", "l'instant"
    who = last.changed_by.get_full_name() or last.changed_by.username if last.changed_by else "?"
    return who, timezone.localtime(last.changed_at).strftime("%H:%M")


def dossier_values_apply(
    *,
    dossier: Dossier,
    values: dict[str, object],
    acting_user,
    source: str,
    seen: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    describe=None,
) -> SaveResult:
    """Write already validated stored values (input fields) of the organism's dossier.

    ``seen`` holds, per field, the stored value the person had on screen: a field changed
    since by someone else is a conflict. ``errors`` found while parsing refuse the whole
    change (all or nothing). ``describe(name, value)`` formats a value for the conflict
    message. The first value moves the dossier from step 1 to step 2 (a recorded
    transition)."""
    DossierPolicy(acting_user, dossier).require_owner()
    errors = dict(errors or {})
    partial = None
    if 0 < len(values) <= PARTIAL_MAX and not errors:
        form = compiled_form(dossier.form_version)
        checks = blocking_checks(dossier.form_version)
        # the controls reading a changed or recomputed cell are evaluated again, the others
        # keep their stored verdicts: the save reads only the cells of the first
        changed = partial_plan(form, list(values))
        depending = checks.depending(changed.affected + tuple(_cells(changed)))
        partial = partial_plan(form, list(values), checks.reads_of(depending))
    with transaction.atomic():
        locked = _lock(dossier, partial)
        if partial is not None and (
            blocking_checks(locked.form_version) is not checks
            or locked.failing_checks.get("rules") != checks.stamp
        ):
            # migrated or its controls edited meanwhile (or verdicts kept from other rules):
            # the whole form, every control, the current rules
            partial, locked = None, _lock(dossier)
        if not locked.accepts_entries:
            raise DossierClosed(MSG_CLOSED.format(step=locked.get_step_display()))
        stored = (locked.part_values or {}) if partial is not None else locked.values
        conflicts = {}
        for name in values:
            if seen is not None and name in seen and seen[name] != stored.get(name):
                conflicts[name] = current = stored.get(name)
                who, when = _describe_last_change(locked, name)
                shown = describe(name, current) if describe else current
                errors[name] = MSG_CONFLICT.format(who=who, when=when, current=shown or "vide")
        if errors:
            raise SaveRefused(errors, conflicts)
        result = SaveResult()
        history = []
        for name, value in values.items():
            old = stored.get(name)
            if old == value:
                continue
            result.saved[name] = value
            history.append((name, old, value))
        if history:
            locked.revision += 1
            if partial is not None:
                before_computed = locked.part_computed or {}
                v, computed = partial_evaluate(form, partial, stored, before_computed, result.saved)
                locked.failing_checks = checks.verdicts_after(locked.failing_checks, v, depending)
                locked.failing_controls = len(locked.failing_checks["ids"])
                removed_computed = []
            else:
                before_computed = locked.computed
                locked.values = {
                    **{k: x for k, x in stored.items() if k not in result.saved},
                    **{k: x for k, x in result.saved.items() if x is not None},
                }
                result.evaluated = _evaluate(locked)
                computed = locked.computed
                removed_computed = [name for name in before_computed if name not in computed]
            locked.updated_at = timezone.now()
            result.computed = {
                name: value
                for name, value in computed.items()
                if before_computed.get(name, "∅") != value
            }
            update = {
                "values": _jsonb_patch(
                    "values",
                    {name: value for name, value in result.saved.items() if value is not None},
                    [name for name, value in result.saved.items() if value is None],
                ),
                "computed": _jsonb_patch("computed", result.computed, removed_computed),
                "revision": locked.revision,
                "failing_controls": locked.failing_controls,
                "failing_checks": locked.failing_checks,
                "updated_at": locked.updated_at,
            }
            if any(name in locked.prefilled for name in result.saved):
                # an edited value is no longer the one carried over
                locked.prefilled = update["prefilled"] = {
                    k: v for k, v in locked.prefilled.items() if k not in result.saved
                }
            first_entry = locked.step == Step.INITIALISED
            if first_entry:  # the first value: step 2, being filled (a journaled transition)
                locked.start_filling()
                update["step"] = locked.step
            Dossier.all_objects.filter(pk=locked.pk).update(**update)
            ValueChange.objects.record(
                dossier=locked, changes=history, source=source, changed_by=acting_user
            )
            if first_entry:
                change = _record_step(locked, "start_filling", Step.INITIALISED, None,
                                      acting_user)  # fmt: skip
                dossier_step_changed.send(
                    sender=Dossier, dossier=locked, change=change, acting_user=acting_user
                )
            dossier_values_changed.send(
                sender=Dossier,
                dossier=locked,
                source=source,
                names=sorted(result.saved),
                acting_user=acting_user,
            )
        result.revision = locked.revision
    _mirror(dossier, locked, result)
    return result


# --- lifecycle --------------------------------------------------------------------------------
def dossier_transition(
    *, dossier, action: str, acting_user, comment: str = "", substep=None
) -> StepChange:
    """Fire ``action`` on the dossier, or raise PermissionDenied / LifecycleRefused."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise LifecycleRefused([MSG_UNKNOWN])
    if (refusal := DossierPolicy(acting_user, dossier).transition_refusal(action)) is not None:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        locked = _lock(dossier)
        method = getattr(locked, action)
        if not can_proceed(method):
            raise LifecycleRefused([MSG_NOT_NOW.format(step=locked.get_step_display())])
        if spec.needs_checks and (problems := dossier_problems(locked)):
            raise LifecycleRefused(problems)
        if action == "move" and substep is None:
            raise LifecycleRefused([MSG_SUBSTEP])
        if action == "hand_back" and not comment.strip():
            raise LifecycleRefused([MSG_COMMENT])
        before_step, before_substep = locked.step, locked.substep
        _, locked.substep = transition_target(locked, action, substep)
        method()
        if action in ("transmit", "retransmit"):
            locked.transmitted_at = timezone.now()
        locked.save()
        change = _record_step(locked, action, before_step, before_substep, acting_user, comment)
        if spec.snapshot:
            _snapshots(locked, change, acting_user)
        # after the snapshots: they are what partners get
        dossier_step_changed.send(
            sender=Dossier, dossier=locked, change=change, acting_user=acting_user
        )
    _mirror(dossier, locked)
    dossier.substep = locked.substep
    return change


def _snapshots(dossier, change: StepChange, user) -> None:
    """The transmitted document, frozen: the XML now; the PDF is recorded here and made by a
    worker, queued by the declaring app's receiver of ``dossier_step_changed`` (in this
    transaction: the job exists only if the transmission does)."""
    frozen = {
        "step_change": change,
        "frozen_values": dossier.values,
        "frozen_computed": dossier.computed,
        "frozen_step": dossier.step_label,
        "requested_by": user,
    }
    stem = dossier.document_stem
    DossierExport.objects.create(
        dossier=dossier,
        kind=DossierExport.Kind.XML,
        status=DossierExport.Status.DONE,
        progress=100,
        content=dossier_xml(dossier),
        filename=f"{stem}-transmis-{change.changed_at:%Y%m%d-%H%M}.xml",
        finished_at=timezone.now(),
        **frozen,
    )
    DossierExport.objects.create(
        dossier=dossier, kind=DossierExport.Kind.PDF, filename=f"{stem}.pdf", **frozen
    )


# --- the form changes -------------------------------------------------------------------------
def migrated_values(values: dict, inputs: set[str], tables: dict[str, set[str]]):
    """The values a dossier keeps on a new version, and {name: (old, new)} of what changes:
    single fields by name; a table's rows keep the columns the new version's table still has
    as inputs (by name)."""
    kept, changed = {}, {}
    for name, value in values.items():
        if value.__class__ is list and name in tables:
            columns = tables[name]
            rows = [{k: x for k, x in row.items() if k in columns} for row in value]
            kept[name] = rows
            if rows != value:
                changed[name] = (value, rows)
        elif value.__class__ is not list and name in inputs:
            kept[name] = value
        else:
            changed[name] = (value, None)
    return kept, changed


def dossier_version_migrate(*, dossier, version, inputs: set[str], acting_user, note: str,
                            tables: dict[str, set[str]] | None = None) -> None:  # fmt: skip
    """Move a dossier to a new version of its form: values of fields that are no longer
    inputs (and table columns the new version's table no longer has) leave it (kept in its
    history, with ``note``), then all derived state is recomputed on the new version. The
    caller checks the gestionnaire's role and holds the transaction."""
    if not DossierPolicy(acting_user, dossier).is_gestionnaire:
        raise PermissionDenied(MSG_MIGRATION_ROLE)
    locked = _lock(dossier)
    kept, changed = migrated_values(locked.values, inputs, tables or {})
    history = [(name, old, new) for name, (old, new) in changed.items()]
    locked.values = kept
    locked.prefilled = {k: v for k, v in locked.prefilled.items() if k in kept}
    locked.form_version = version
    locked.revision += 1
    update = ["values", "prefilled", "form_version", "revision", *_derive(locked)]
    locked.save(update_fields=update)
    ValueChange.objects.record(
        dossier=locked,
        changes=history,
        source=ValueChange.Source.VERSION_MIGRATION,
        changed_by=acting_user,
        note=note,
    )
    dossier_values_changed.send(
        sender=Dossier,
        dossier=locked,
        source=ValueChange.Source.VERSION_MIGRATION,
        names=sorted(name for name, _, _ in history),
        acting_user=acting_user,
    )


def dossiers_derived_refresh(*, version_id: int) -> int:
    """Recompute the failing-controls count of every dossier on a form version (its controls
    changed); returns how many changed. Each dossier is locked while it is recounted. A draft's
    trial dossier too: its controls are what trying the draft checks."""
    changed = 0
    for pk in Dossier.all_objects.filter(form_version_id=version_id).values_list("pk", flat=True):
        with transaction.atomic():
            locked = (
                Dossier.all_objects.select_for_update(of=("self",))
                .select_related("form_version")
                .get(pk=pk)
            )
            before = locked.failing_controls
            _failing_derive(locked)
            Dossier.all_objects.filter(pk=pk).update(
                failing_controls=locked.failing_controls, failing_checks=locked.failing_checks
            )
            changed += locked.failing_controls != before
    return changed


@tenant_task(name="workflow.dossiers_derived_refresh")
def dossiers_derived_refresh_job(*, version_id: int) -> None:
    dossiers_derived_refresh(version_id=version_id)


# --- retention ----------------------------------------------------------------------------------
def dossiers_purge(*, reference: int | None = None, run_by: str, acting_user=None) -> PurgeLog:
    """Delete the dossiers older than the five kept exercises, and log it (``PurgeLog`` and
    the administrative journal; ``acting_user`` is None when run from the command, whose
    operator's system login is ``run_by``)."""
    with transaction.atomic():
        plan = purge_plan(reference=reference)
        ids = [d.pk for d in plan.dossiers]
        # snapshots first: they point at the step journal, which protects them
        DossierExport.objects.filter(dossier_id__in=ids).delete()
        # whatever else protects a dossier (partner transmissions…) goes with it
        for relation in Dossier._meta.related_objects:
            if relation.on_delete is models.PROTECT:
                relation.related_model.objects.filter(
                    **{f"{relation.field.name}__in": ids}
                ).delete()
        Dossier.objects.filter(pk__in=ids).delete()
        purge = PurgeLog.objects.create(
            run_by=run_by,
            oldest_kept=plan.oldest_kept,
            dossiers=len(ids),
            exports=plan.exports,
            attachments=plan.attachments,
            detail=plan.lines(),
        )
        log(
            instance=purge,
            action="harmonia.dossiers_purged",
            user=acting_user,
            data={
                "run_by": run_by,
                "oldest_kept": plan.oldest_kept,
                "dossiers": purge.dossiers,
                "exports": purge.exports,
                "attachments": purge.attachments,
            },
        )
        return purge
