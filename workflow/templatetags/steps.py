"""The step of a dossier as a DSFR badge: the same words and colours in every list."""

from django import template
from django.utils.html import format_html

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


@register.simple_tag
def step_badge(step: str | None, substep=None):
    """``{% step_badge dossier.step dossier.substep %}``; no step: « non initialisé ».
    Markup built here, not by an included template: a list draws a hundred of them."""
    code = step or NOT_STARTED
    label = NOT_STARTED_LABEL if code == NOT_STARTED else Step(code).label
    return format_html(
        '<span class="fr-badge fr-badge--sm {}" data-testid="step-badge" data-step="{}">'
        "{}{}</span>",
        _VARIANT.get(code, ""),
        code,
        label,
        format_html(" · {}", substep) if substep else "",
    )
