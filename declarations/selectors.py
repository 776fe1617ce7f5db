"""Who sees which dossiers (the dossier policy's rule, as a queryset), and the reads the
dossier screens share."""

from dataclasses import dataclass

from declarations.grid import CellNotes, GridTable
from forms_cms.carryover import VarianceFlag, variance_flags
from forms_cms.fields import version_tables
from forms_cms.services.runtime import compiled_form, table_rows_stored
from workflow.policy import dossiers_visible_to
from workflow.services.prefill import REGISTRY, previous_transmission, transmitted_values

__all__ = ["dossiers_visible_to", "grid_tables"]


def grid_tables(version, sheet: str, values: dict, computed: dict) -> list[GridTable]:
    """The multivalued tables of ``sheet`` with the rows of ``values`` (the workbook's
    pre-filled rows for a table nothing was entered in) and their calculated columns."""
    tables = []
    for name, meta in version_tables(version).items():
        if meta.sheet != sheet:
            continue
        if isinstance(values.get(name), list):
            rows = values[name]
        else:
            rows = table_rows_stored(compiled_form(version), name)
        tables.append(GridTable(meta, rows, list(computed.get(name) or [])))
    return tables


@dataclass
class CarryOverView:
    """What the sheet and the verification show of carry-over and variance: the marks of
    the cells, the legend entries (id, text) and the variance flags (name → flag)."""

    notes: CellNotes
    legend: list[tuple[str, str]]
    flags: dict[str, VarianceFlag]
    previous_exercise: int


def carry_over_view(dossier, shown) -> CarryOverView:
    """Marks of the values carried over (the live dossier's, not a transmitted snapshot's)
    and the variances of the values ``shown`` from last year's last transmission."""
    exercise = dossier.campaign.exercise - 1
    carried: dict[str, str] = {}
    legend: list[tuple[str, str]] = []
    if shown is dossier and dossier.prefilled:
        for name, mark in dossier.prefilled.items():
            carried[name] = "co-registry" if mark == REGISTRY else "co-previous"
        kinds = set(carried.values())
        if "co-registry" in kinds:
            legend.append(("co-registry", "repris du répertoire"))
        if "co-previous" in kinds:
            year = max((m for m in dossier.prefilled.values() if m != REGISTRY), default=exercise)
            legend.append(("co-previous", f"repris de l'exercice {year}"))
    previous = previous_transmission(
        organism=dossier.organism, document_type=dossier.document_type, exercise=exercise
    )
    flags = {}
    if previous is not None:
        flags = variance_flags(
            dossier.form_version,
            shown.values,
            shown.computed,
            transmitted_values(previous),
            exercise=exercise,
        )
    return CarryOverView(
        notes=CellNotes(carried, {name: flag.message for name, flag in flags.items()}),
        legend=legend,
        flags=flags,
        previous_exercise=exercise,
    )
