"""``{% load sheet_tabs %}{% sheet_tabs dossier tabs current %}``: the sheet page's tabs, with
their counts of empty required fields and failing blocking controls. Markup built here: an
ER Sociaux has 22 tabs, and the template language drew them in ~6 ms per page."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _tab(dossier, sheet, checks, current) -> tuple:
    missing = len(checks.missing) if checks else 0
    blocking = len(checks.blocking) if checks else 0
    count = format_html(
        '<span class="tab-count tab-count--required" data-count="required"{}> · {} obligatoire{}'
        '<span class="fr-sr-only"> vide{}</span></span>',
        mark_safe("" if missing else " hidden"),  # noqa: S308 - a constant
        missing,
        _plural(missing),
        _plural(missing),
    )
    if blocking:
        count += format_html(
            '<span class="tab-count tab-count--blocking"> · {} contrôle{} bloquant{}'
            '<span class="fr-sr-only"> en échec</span></span>',
            blocking,
            _plural(blocking),
            _plural(blocking),
        )
    here = ' aria-current="page" class="active"' if sheet.pk == current.pk else ""
    return (
        reverse("declarations:sheet", args=(dossier.pk, sheet.position)),
        sheet.name,
        missing,
        blocking,
        mark_safe(here),  # noqa: S308 - a constant
        sheet.name,
        count,
    )


@register.simple_tag
def sheet_tabs(dossier, tabs, current):
    """``tabs``: (sheet, its checklist or None) in the form's order; ``current``: the sheet
    shown."""
    return format_html_join(
        "",
        '<a href="{}" data-sheet="{}" data-required-empty="{}" data-blocking="{}"{}>{}{}</a>',
        (_tab(dossier, sheet, checks, current) for sheet, checks in tabs),
    )
