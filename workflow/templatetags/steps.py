"""The step of a dossier as a DSFR badge: the same words and colours in every list."""

from django import template

from workflow.models import Step
from workflow.workspace import NOT_STARTED, NOT_STARTED_LABEL

register = template.Library()

# DSFR badge variants (system colours carry an icon too, so colour is never the only cue)
_VARIANT = {
    NOT_STARTED: "",
    Step.INITIALISED: "fr-badge--new",
    Step.FILLING: "fr-badge--info",
    Step.VALIDATED: "fr-badge--info",
    Step.FIABILISATION: "fr-badge--success",
    Step.HANDED_BACK: "fr-badge--warning",
    Step.FINALISED: "fr-badge--success",
    Step.ARCHIVED: "",
}


@register.inclusion_tag("workflow/_step_badge.html")
def step_badge(step: str | None, substep=None):
    """``{% step_badge dossier.step dossier.substep %}``; no step: « non initialisé »."""
    code = step or NOT_STARTED
    label = NOT_STARTED_LABEL if code == NOT_STARTED else Step(code).label
    return {"code": code, "label": label, "variant": _VARIANT.get(code, ""), "substep": substep}
