"""The gestionnaire's edits of a version's carry-over rules and variance thresholds.

Each edit locks the version row (as field and control edits do), writes, and leaves one entry
in the administrative journal. The first edit of the rules copies the default rules by name
into the version (``CarryOverSettings.customised``): from then on the version's rules are the
ones in force; « Revenir aux règles par défaut » deletes them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from wagtail.log_actions import log

from forms_cms.carryover import MappingRefused, Rule, default_rules, version_settings
from forms_cms.fields import version_fields
from forms_cms.models import CarryOverRule, CarryOverSettings, FormVersion

MSG_PERCENT = "Indiquez un pourcentage positif (ex. 50 pour ±50 %)."
MSG_MINIMUM = "Indiquez un montant positif ou nul (ex. 1 000)."


def _locked_settings(version) -> tuple[FormVersion, CarryOverSettings]:
    locked = FormVersion.objects.select_for_update().get(pk=version.pk)
    settings, _ = CarryOverSettings.objects.get_or_create(version=locked)
    return locked, settings


def _materialise(version, settings) -> None:
    """Copy the default rules into the version before its first own edit."""
    if settings.customised:
        return
    CarryOverRule.objects.filter(version=version).delete()
    CarryOverRule.objects.bulk_create(
        CarryOverRule(version=version, target=r.target, origin=r.origin, source=r.source)
        for r in default_rules(version)
    )
    settings.customised = True


def _log(version, acting_user, data: dict) -> None:
    log(
        instance=version,
        action="harmonia.carry_over_updated",
        user=acting_user,
        title=str(version),
        data={"version": version.code, **data},
    )


def carry_over_rules_replace(*, version, rules: list[Rule], acting_user) -> int:
    """The version's rules become ``rules`` (an uploaded sheet, already checked)."""
    with transaction.atomic():
        locked, settings = _locked_settings(version)
        CarryOverRule.objects.filter(version=locked).delete()
        CarryOverRule.objects.bulk_create(
            CarryOverRule(version=locked, target=r.target, origin=r.origin, source=r.source)
            for r in rules
        )
        settings.customised = True
        settings.updated_by = acting_user
        settings.save()
        _log(locked, acting_user, {"replaced": len(rules)})
    return len(rules)


def carry_over_rule_set(*, version, rule: Rule, acting_user) -> None:
    """Add a rule, or change the source of the rule filling the same field."""
    info = version_fields(version).get(rule.target)
    if info is None or info.computed:
        raise MappingRefused(
            [
                f"Le champ « {rule.target} » "
                + ("est calculé : il ne peut pas être repris." if info else "n'existe pas.")
            ]
        )
    with transaction.atomic():
        locked, settings = _locked_settings(version)
        _materialise(locked, settings)
        CarryOverRule.objects.update_or_create(
            version=locked,
            target=rule.target,
            defaults={"origin": rule.origin, "source": rule.source},
        )
        settings.updated_by = acting_user
        settings.save()
        _log(locked, acting_user, {"set": [rule.target, rule.origin, rule.source]})


def carry_over_rule_delete(*, version, target: str, acting_user) -> bool:
    with transaction.atomic():
        locked, settings = _locked_settings(version)
        _materialise(locked, settings)
        deleted, _ = CarryOverRule.objects.filter(version=locked, target=target).delete()
        settings.updated_by = acting_user
        settings.save()
        _log(locked, acting_user, {"deleted": target})
    return bool(deleted)


def carry_over_rules_reset(*, version, acting_user) -> None:
    """Back to the default rules by name."""
    with transaction.atomic():
        locked, settings = _locked_settings(version)
        CarryOverRule.objects.filter(version=locked).delete()
        settings.customised = False
        settings.updated_by = acting_user
        settings.save()
        _log(locked, acting_user, {"reset": True})


def variance_thresholds_set(*, version, percent: Decimal, minimum: Decimal, acting_user):
    errors = {}
    if percent is None or percent <= 0:
        errors["variance_percent"] = MSG_PERCENT
    if minimum is None or minimum < 0:
        errors["variance_minimum"] = MSG_MINIMUM
    if errors:
        raise MappingRefused(list(errors.values()))
    with transaction.atomic():
        locked, settings = _locked_settings(version)
        before = [str(settings.variance_percent), str(settings.variance_minimum)]
        settings.variance_percent = percent
        settings.variance_minimum = minimum
        settings.updated_by = acting_user
        settings.save()
        _log(locked, acting_user, {"thresholds": [before, [str(percent), str(minimum)]]})
    return version_settings(locked)
