"""A block copied from Excel, pasted on a sheet of the online form: placed on the sheet's cells
(declarations/paste/block.py), each value checked, the valid ones written in one save
(``dossier_values_save``: one revision, one history row per changed cell), the rest reported.

Unlike a typed save (all or nothing), a paste keeps what is valid: the person pasted dozens of
values and is told which few were not taken, cell by cell, rather than losing all of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from harmonia.french import counted

from declarations.paste.block import Landing, Placement, anchor_of, block_placement
from declarations.services.dossiers import dossier_values_save
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import Invalid, parse_value
from workflow.actions import MSG_CLOSED, DossierClosed, SaveRefused, SaveResult
from workflow.models import Dossier, ValueChange
from workflow.policy import DossierPolicy

SHOWN_TEXT_MAX = 40  # a refused value is quoted in the report up to this length
MSG_SKIPPED = "{address}{label} : ignorée — {reason}."
MSG_SKIPPED_MANY = "{count} — {reason} ({addresses})."
MAX_SKIPPED_LISTED = 10  # beyond, skipped cells are counted by reason rather than listed
MSG_REFUSED = "{address}{label} : « {text} » non collée — {message}"
MSG_COLUMNS_BEYOND = {
    False: "{count} au-delà de la feuille n'a pas été collée.",
    True: "{count} au-delà de la feuille n'ont pas été collées.",
}


@dataclass
class PasteReport:
    """What a paste did: the save's result (None when nothing valid was pasted), the values
    equal to those stored (taken, but no change), and what was not pasted, and why."""

    result: SaveResult | None
    placement: Placement
    refused: list[tuple[Landing, str]] = field(default_factory=list)
    unchanged: int = 0
    conflicts: dict[str, object] = field(default_factory=dict)  # field → value stored now

    @property
    def saved(self) -> dict[str, object]:
        return self.result.saved if self.result else {}

    @property
    def pasted(self) -> int:
        return len(self.saved) + self.unchanged

    def summary(self) -> str:
        """One French sentence: how many values were pasted, skipped, refused."""
        parts = [counted(self.pasted, "valeur collée", "valeurs collées")]
        if self.pasted == 0:
            parts = ["Aucune valeur collée"]
        if self.unchanged:
            already = counted(self.unchanged, "déjà enregistrée", "déjà enregistrées")
            parts[0] += f" (dont {already})"
        if skipped := len(self.placement.skipped):
            parts.append(
                counted(skipped, "cellule ignorée", "cellules ignorées")
                + " (calculée ou en lecture seule)"
            )
        if self.refused:
            parts.append(counted(len(self.refused), "valeur refusée", "valeurs refusées"))
        if self.placement.columns_beyond or self.placement.lines_beyond:
            parts.append("une partie du bloc dépasse la feuille")
        return " ; ".join(parts) + "."

    def lines(self) -> list[str]:
        """What was not pasted, one French line each: cell, label, value, why."""
        return [text for text, _ in self.items()]

    def items(self) -> list[tuple[str, str | None]]:
        """:meth:`lines` with the field each is about when it is a refused input (the page
        ties that cell to its line), else None."""
        skipped = self.placement.skipped
        if len(skipped) <= MAX_SKIPPED_LISTED:
            out: list[tuple[str, str | None]] = [
                (MSG_SKIPPED.format(address=s.address, label=_label(s.label), reason=s.reason),
                 None)
                for s in skipped
            ]  # fmt: skip
        else:  # a whole sheet copied: its formulas and labels, counted by reason
            by_reason: dict[str, list[str]] = {}
            for landing in skipped:
                by_reason.setdefault(landing.reason, []).append(landing.address)
            out = [
                (
                    MSG_SKIPPED_MANY.format(
                        count=counted(len(addresses), "cellule ignorée", "cellules ignorées"),
                        reason=reason,
                        addresses=_addresses(addresses),
                    ),
                    None,
                )
                for reason, addresses in by_reason.items()
            ]
        out += [
            (
                MSG_REFUSED.format(
                    address=landing.address,
                    label=_label(landing.field.label),
                    text=_shorten(landing.text),
                    message=message,
                ),
                landing.field.name,
            )
            for landing, message in self.refused
        ]
        for count, one, many in (
            (self.placement.columns_beyond, "colonne", "colonnes"),
            (self.placement.lines_beyond, "ligne", "lignes"),
        ):
            if count:
                text = MSG_COLUMNS_BEYOND[count > 1].format(count=counted(count, one, many))
                out.append((text, None))
        return out


def _label(label: str) -> str:
    return f" « {label} »" if label else ""


def _addresses(addresses: list[str]) -> str:
    if len(addresses) <= 4:
        return ", ".join(addresses)
    return ", ".join(addresses[:3]) + f", …, {addresses[-1]}"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_TEXT_MAX else text[: SHOWN_TEXT_MAX - 1] + "…"


def dossier_block_paste(
    *,
    dossier: Dossier,
    layout: dict,
    text: str,
    acting_user,
    anchor_name: str = "",
    anchor_address: str = "",
    seen: dict[str, object] | None = None,
) -> PasteReport:
    """Paste ``text`` (Excel's clipboard: tab-separated lines) on the sheet of ``layout`` from
    the input field ``anchor_name`` or the cell ``anchor_address`` (« B3 »).

    ``seen`` holds, per field, the stored value the person had on screen, as for a typed
    save: a cell another user changed since is not pasted over (reported, with the value
    stored now, in ``conflicts``); the other cells are.

    Raises PermissionDenied (not the organism's), DossierClosed (not at an editable step),
    BlockRefused (no value, too large, unknown anchor): nothing is written then."""
    DossierPolicy(acting_user, dossier).require_owner()
    if not dossier.accepts_entries:
        raise DossierClosed(MSG_CLOSED.format(step=dossier.get_step_display()))
    fields = version_fields(dossier.form_version)
    tables = [m for m in version_tables(dossier.form_version).values()
              if m.sheet == layout.get("name")]  # fmt: skip
    anchor = anchor_of(layout, fields, name=anchor_name, address=anchor_address)
    placement = block_placement(layout, fields, tables, anchor, text)
    report = PasteReport(result=None, placement=placement)
    valid: dict[str, str] = {}
    landings: dict[str, Landing] = {}
    for landing in placement.entries:
        info = landing.field
        value = parse_value(info.data_type, landing.text, choices=info.choices)
        if isinstance(value, Invalid):
            report.refused.append((landing, value.message))
        else:
            valid[info.name] = landing.text
            landings[info.name] = landing
    while valid:
        try:
            # the write path of typed cells: checks the step again under lock, one revision
            report.result = dossier_values_save(
                dossier=dossier,
                entries=valid,
                seen=None if seen is None else {k: seen[k] for k in valid if k in seen},
                acting_user=acting_user,
                source=ValueChange.Source.MANUAL,
            )
        except SaveRefused as exc:
            if not exc.conflicts:  # every entry was checked above: not expected
                raise
            # changed by a colleague since the page was drawn: that cell is left as stored,
            # the rest is saved (each round leaves at least one cell out: it ends)
            for name, current in exc.conflicts.items():
                report.refused.append((landings[name], exc.errors[name]))
                report.conflicts[name] = current
                del valid[name]
            continue
        report.unchanged = len(valid) - len(report.result.saved)
        break
    return report
