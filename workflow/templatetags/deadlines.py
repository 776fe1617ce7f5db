"""An organism's deadline in a page: ``{% deadline_of campaign document organism as d %}``
reads it, ``{% deadline_badge d dossier %}`` draws it the same way in every list."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from harmonia.french import counted

from workflow.deadlines import DUE_SOON_DAYS, Deadline
from workflow.services.deadlines import deadline_for

register = template.Library()


@register.simple_tag
def deadline_of(campaign, document_type, organism) -> Deadline:
    return deadline_for(campaign, document_type, organism)


def _days(n: int) -> str:
    return counted(n, "jour", "jours")


@register.simple_tag
def deadline_badge(deadline: Deadline | None, dossier=None, required=True):
    """The date (or « à préciser » and why), then how long is left or how late it is; none
    of that once the dossier is transmitted. Markup built here: lists draw hundreds."""
    if deadline is None:
        return ""
    parts = []
    if deadline.day is not None:
        parts.append(format_html("{}", deadline.day.strftime("%d/%m/%Y")))
    else:
        parts.append(
            format_html(
                '<span class="fr-badge fr-badge--sm fr-badge--warning" title="{}" '
                'data-testid="deadline-unknown">date limite à préciser</span>',
                deadline.missing,
            )
        )
        if deadline.latest is not None:
            parts.append(format_html("au plus tard le {}", deadline.latest.strftime("%d/%m/%Y")))
    if deadline.prorogated:
        parts.append(
            mark_safe(
                '<span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon" '
                'data-testid="prorogated">prorogée</span>'
            )
        )
    transmitted = dossier is not None and dossier.transmitted_at is not None
    left = deadline.days_left(timezone.localdate())
    if not transmitted and left is not None and required:
        if left < 0:
            parts.append(
                format_html(
                    '<span class="fr-badge fr-badge--sm fr-badge--error" data-testid="late">'
                    "en retard de {}</span>",
                    _days(-left),
                )
            )
        elif left == 0:
            parts.append(
                mark_safe(
                    '<span class="fr-badge fr-badge--sm fr-badge--warning" '
                    'data-testid="due-soon">aujourd\'hui</span>'
                )
            )
        elif left <= DUE_SOON_DAYS:
            parts.append(
                format_html(
                    '<span class="fr-badge fr-badge--sm fr-badge--warning" '
                    'data-testid="due-soon">dans {}</span>',
                    _days(left),
                )
            )
        else:
            parts.append(format_html('<span class="fr-text--xs">dans {}</span>', _days(left)))
    return format_html_join(" ", "{}", ((p,) for p in parts))
