"""The dossier's past on screen: value history (whole dossier or one cell) and what changed
between two transmissions. Shown to whoever may read the dossier's values (its policy)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required
from declarations.access import dossier_view
from declarations.history import (
    rows_count,
    shown,
    table_change_lines,
    transmission_differences,
    transmissions,
    value_history,
)
from forms_cms.fields import version_fields, version_tables

PAGE_SIZE = 100


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_history(request, dossier, policy):
    """Who changed what, when, from which source. A gestionnaire reading the transmitted
    snapshot (the organism has the hand back) sees the changes up to that transmission."""
    field_name = request.GET.get("champ", "").strip()
    snapshot = getattr(policy.readable(), "snapshot", None)
    until = snapshot.requested_at if snapshot is not None else None
    fields = version_fields(dossier.form_version)
    changes = value_history(dossier, field_name=field_name, until=until)
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    tables = version_tables(dossier.form_version)
    rows = []
    for c in page:
        meta = tables.get(c.field_name)
        if meta is not None:  # a multivalued table: its rows added, removed, changed
            rows.append(
                {
                    "change": c,
                    "label": f"Tableau « {meta.name} »",
                    "before": rows_count(c.old_value),
                    "after": rows_count(c.new_value),
                    "table_lines": table_change_lines(meta, c.old_value, c.new_value),
                }
            )
            continue
        rows.append(
            {
                "change": c,
                "label": fields[c.field_name].label if c.field_name in fields else "",
                "before": shown(fields, c.field_name, c.old_value),
                "after": shown(fields, c.field_name, c.new_value),
            }
        )
    return render(
        request,
        "declarations/dossier_history.html",
        {
            "dossier": dossier,
            "field_name": field_name,
            "field_query": urlencode({"champ": field_name}) if field_name else "",
            "field": fields.get(field_name),
            "page": page,
            "rows": rows,
            "until": until,
        },
    )


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.EDITEUR)
@dossier_view(values=True)
def dossier_changes(request, dossier, policy):
    """What changed between two transmissions (by default the last two): after a hand-back,
    what the organism corrected before transmitting again."""
    sent = transmissions(dossier)
    by_pk = {s.pk: s for s in sent}
    newer = by_pk.get(_int(request.GET.get("a"))) or (sent[-1] if sent else None)
    older = by_pk.get(_int(request.GET.get("de")))
    if older is None and newer is not None:
        earlier = [s for s in sent if s.requested_at < newer.requested_at]
        older = earlier[-1] if earlier else None
    differences = []
    if older is not None and newer is not None:
        differences = transmission_differences(older, newer, version_fields(dossier.form_version))
    return render(
        request,
        "declarations/dossier_changes.html",
        {
            "dossier": dossier,
            "transmissions": sent,
            "older": older,
            "newer": newer,
            "entered": [d for d in differences if not d.computed],
            "computed": [d for d in differences if d.computed],
        },
    )


def _int(text) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None
