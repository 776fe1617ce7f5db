"""A new form version during a campaign: move the campaign's dossiers to it, recomputed.

The gestionnaire first sees the impact (dossiers, fields and values affected), then confirms.
Values of fields the new version no longer has as input fields leave the dossier but stay in
its history (a ``ValueChange`` from the value to nothing, source "version migration"): nothing
entered is ever dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from harmonia.french import counted
from wagtail.log_actions import log

from accounts.models import Role
from forms_cms.models import Field, FormVersion
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from workflow.actions import dossier_version_migrate, migrated_values
from workflow.models import Dossier

MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme peut migrer les dossiers."
MSG_DRAFT = (
    "Cette version est un brouillon : publiez-la avant d'y faire passer les dossiers de la "
    "campagne."
)
MSG_REMOVED = "champ absent de la version {number} : valeur conservée dans l'historique"


@dataclass
class DossierImpact:
    dossier_id: int
    organism: str
    from_version: int
    removed: list[tuple[str, object]] = field(default_factory=list)  # (field, value)
    retyped: list[tuple[str, object, str, str]] = field(default_factory=list)
    computed_changed: int = 0


@dataclass
class MigrationImpact:
    version: FormVersion
    dossiers: list[DossierImpact] = field(default_factory=list)

    @property
    def removed_values(self) -> int:
        return sum(len(d.removed) for d in self.dossiers)

    @property
    def retyped_values(self) -> int:
        return sum(len(d.retyped) for d in self.dossiers)

    @property
    def computed_changes(self) -> int:
        return sum(d.computed_changed for d in self.dossiers)

    @property
    def fields_affected(self) -> list[str]:
        names = {name for d in self.dossiers for name, _ in d.removed}
        names |= {item[0] for d in self.dossiers for item in d.retyped}
        return sorted(names)


def version_inputs(version: FormVersion) -> tuple[set[str], dict[str, set[str]]]:
    """The version's single input fields, and its tables' input columns by table."""
    inputs: set[str] = set()
    tables: dict[str, set[str]] = {}
    for name, table in version.fields.filter(kind=Field.Kind.INPUT).values_list("name", "table"):
        if table:
            tables.setdefault(table, set()).add(name)
        else:
            inputs.add(name)
    return inputs, tables


def dossiers_to_migrate(version: FormVersion):
    return (
        Dossier.objects.filter(
            campaign=version.campaign,
            document_type=version.document_type,
            form_version__number__lt=version.number,
        )
        .select_related("organism", "form_version")
        .order_by("organism__name")
    )


def version_migration_impact(*, version: FormVersion) -> MigrationImpact:
    """What moving the campaign's dossiers to ``version`` would change (nothing is written)."""
    impact = MigrationImpact(version=version)
    new_fields = {f.name: f for f in version.fields.all()}
    inputs, tables = version_inputs(version)
    form = compiled_form(version)
    old_types: dict[int, dict[str, str]] = {}
    for dossier in dossiers_to_migrate(version):
        old = old_types.setdefault(
            dossier.form_version_id,
            dict(
                Field.objects.filter(version=dossier.form_version).values_list("name", "data_type")
            ),
        )
        item = DossierImpact(dossier.pk, str(dossier.organism), dossier.form_version.number)
        kept, changed = migrated_values(dossier.values, inputs, tables)
        for name, value in sorted(dossier.values.items()):
            if value is None:
                continue
            if name in changed:
                before, after = changed[name]
                if after is None and value.__class__ is list:  # a table the version lost
                    item.removed.append((name, counted(len(value), "ligne", "lignes")))
                elif after is None:
                    item.removed.append((name, value))
                else:  # a table losing columns: each dropped column with its values
                    for column in sorted({k for row in before for k in row} - tables[name]):
                        lost = sum(1 for row in before if column in row)
                        item.removed.append((f"{name}.{column}", counted(lost, "ligne", "lignes")))
            elif (
                value.__class__ is not list
                and old.get(name)
                and (old[name] != new_fields[name].data_type)
            ):
                item.retyped.append((name, value, old[name], new_fields[name].data_type))
        computed = dossier_evaluate(form, kept)
        item.computed_changed = sum(
            1 for name, value in computed.items() if dossier.computed.get(name) != value
        )
        impact.dossiers.append(item)
    return impact


def form_version_migrate(*, version: FormVersion, acting_user) -> MigrationImpact:
    """Move the campaign's dossiers to ``version`` and recompute them, in one transaction."""
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)
    if version.is_draft:  # dossiers never move to a draft: publish it first
        raise PermissionDenied(MSG_DRAFT)
    inputs, tables = version_inputs(version)
    with transaction.atomic():
        impact = version_migration_impact(version=version)
        note = MSG_REMOVED.format(number=version.number)
        for dossier in dossiers_to_migrate(version):
            # through the dossier's write gate: lock, history, derived state recomputed
            dossier_version_migrate(
                dossier=dossier, version=version, inputs=inputs, acting_user=acting_user,
                note=note, tables=tables,
            )  # fmt: skip
        log(
            instance=version,
            action="harmonia.form_version_migrated",
            user=acting_user,
            data={
                "version": version.code,
                "dossiers": len(impact.dossiers),
                "removed_values": impact.removed_values,
                "retyped_values": impact.retyped_values,
            },
        )
    return impact
