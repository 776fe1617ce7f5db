"""Which dossiers (or transmissions) an extraction request covers, decided by the permission
policy at the moment of asking: the gestionnaire's workspace filters and selection, minus every
dossier whose values the policy hides (steps 1–3); a partner's transmissions, the latest of
each dossier."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from partners.selectors import transmissions_visible_to
from workflow.policy import DossierPolicy
from workflow.views_workspace import WorkspaceFilterForm
from workflow.workspace import workspace_rows


@dataclass
class Scope:
    document_type: object
    dossier_ids: list[int]
    hidden: int  # dossiers listed whose values the policy hides (steps 1–3)
    label: str
    form: WorkspaceFilterForm
    selected: list[int] = field(default_factory=list)


def gestionnaire_scope(*, user, campaign, filters, selected: list[int]) -> Scope:
    """``filters``: the workspace's query (a QueryDict); ``selected``: the dossiers ticked in
    the workspace (none: every dossier the filters list)."""
    default = campaign.document_types.order_by("position").first()
    if filters and not filters.get("document_type") and default is not None:
        filters = filters.copy()  # the workspace's first document, as the workspace shows it
        filters["document_type"] = str(default.pk)
    form = WorkspaceFilterForm(filters or None, campaign=campaign)
    if form.is_bound and form.is_valid():
        document_type, cleaned = form.cleaned_data["document_type"], form.cleaned_data
    else:
        document_type, cleaned = default, {}
        form = WorkspaceFilterForm(initial={"document_type": document_type}, campaign=campaign)
    rows, _ = workspace_rows(campaign=campaign, document_type=document_type, filters=cleaned)
    dossiers = [r.dossier for r in rows if r.dossier is not None]
    if selected:
        dossiers = [d for d in dossiers if d.pk in set(selected)]
    readable = [d.pk for d in dossiers if DossierPolicy(user, d).can_read_values]
    return Scope(
        document_type=document_type,
        dossier_ids=readable,
        hidden=len(dossiers) - len(readable),
        label=_label(form, cleaned, selected),
        form=form,
        selected=selected,
    )


def _label(form, cleaned: dict, selected: list[int]) -> str:
    """The filters in French, as the journal and the list of extractions show them."""
    parts = []
    for name, bound in form.fields.items():
        if name in ("document_type", "sort"):
            continue
        value = cleaned.get(name)
        if not value:
            continue
        if isinstance(value, bool):
            parts.append(bound.label)
        elif isinstance(value, list):
            names = dict(bound.choices)
            parts.append(f"{bound.label} : {', '.join(str(names.get(v, v)) for v in value)}")
        else:
            names = dict(getattr(bound, "choices", ()) or ())
            parts.append(f"{bound.label} : {names.get(value, value)}")
    if selected:
        parts.append(f"{len(selected)} dossier(s) coché(s)")
    return " ; ".join(parts) or "tous les dossiers lisibles"


def partner_transmissions(user, campaign_id: int, document_type_id: int) -> QuerySet:
    """The latest transmission to the user's partner of each dossier of this campaign and
    document."""
    return (
        transmissions_visible_to(user)
        .filter(dossier__campaign_id=campaign_id, dossier__document_type_id=document_type_id)
        .order_by("dossier_id", "-sent_at", "-pk")
        .distinct("dossier_id")
    )


def partner_documents(user) -> list[tuple[str, str]]:
    """(value "campagne-document", label) of each campaign and document something was
    transmitted to the user's partner for."""
    pairs = (
        transmissions_visible_to(user)
        .values_list(
            "dossier__campaign_id",
            "dossier__campaign__exercise",
            "dossier__document_type_id",
            "dossier__document_type__label",
        )
        .order_by("-dossier__campaign__exercise", "dossier__document_type__label")
        .distinct()
    )
    return [(f"{c}-{d}", f"{label} — exercice {exercise}") for c, exercise, d, label in pairs]
