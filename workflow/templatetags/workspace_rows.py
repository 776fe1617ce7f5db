"""``{% load workspace_rows %}{% workspace_rows page campaign document_type %}``: the lines of
the gestionnaire's workspace. Markup built here: a page holds a hundred rows of eleven cells,
which the template language drew in ~40 ms per request (an include, two URLs, four dates and
some twenty lookups per row)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape as esc
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from harmonia.french import counted

from workflow.templatetags.deadlines import deadline_badge
from workflow.templatetags.steps import step_badge

register = template.Library()

_ID = 987654321  # reversed once, then replaced by each row's id


def _url(name: str, *args) -> tuple[str, str]:
    head, _, tail = reverse(name, args=(*args, _ID)).partition(str(_ID))
    return head, tail


def _date(value, fmt: str) -> str:
    """As ``{{ value|date:fmt }}`` draws it: in the platform's time zone; none: nothing."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, fmt)


def _row(r, dossier_url, deadline_url) -> str:
    organism, dossier, deadline = r.organism, r.dossier, r.deadline
    name = esc(organism.name)
    if dossier and r.step == "4":
        choice = format_html(
            '<input type="checkbox" name="dossier" value="{}" id="choix-{}" '
            'aria-label="Sélectionner {} (déplacer)">',
            str(dossier.pk), str(dossier.pk), organism.name,
        )  # fmt: skip
    elif not r.transmitted:
        choice = format_html(
            '<input type="checkbox" name="organism" value="{}" id="relance-{}" '
            'aria-label="Sélectionner {} (relancer)">',
            str(organism.pk), str(organism.pk), organism.name,
        )  # fmt: skip
    else:
        choice = ""
    deadline_href = f"{deadline_url[0]}{organism.pk}{deadline_url[1]}"
    if dossier:
        named = f'<a href="{dossier_url[0]}{dossier.pk}{dossier_url[1]}">{name}</a>'
    else:
        named = name
    marks = r.marks
    if marks.follow_up or marks.notes:
        named += "<br>"
        if marks.follow_up:
            named += (
                '<span class="fr-badge fr-badge--sm fr-badge--new" data-testid="row-follow-up">'
                "À suivre</span> "
            )
        if marks.notes:
            named += (
                f'<a class="fr-text--xs" href="{deadline_href}#annotations" data-testid="row-notes"'
                f' title="Annotations privées">{esc(counted(marks.notes, "note", "notes"))}</a>'
            )
    named += "\n"  # the end of the annotations' former template
    missing = deadline.missing if deadline is not None else ""
    title = esc(missing or (deadline.rule if deadline is not None else ""))
    why = (
        f'<br><span class="fr-text--xs" data-testid="deadline-why">{esc(capfirst(missing))}</span>'
        if missing
        else ""
    )
    if r.failing_controls is not None:
        failing = esc(localize(r.failing_controls))
    elif dossier:
        failing = "<span title=\"Réservé à l'organisme jusqu'à la transmission\">—</span>"
    else:
        failing = ""
    step = step_badge(dossier.step if dossier else None, dossier.substep if dossier else None)
    reminded = _date(r.last_reminded, "d/m/Y")
    transmitted = _date(dossier and dossier.transmitted_at, "d/m/Y")
    updated = _date(dossier and dossier.updated_at, "d/m/Y H:i")
    return (
        f'<tr data-siren="{esc(organism.siren)}"><td>{choice}</td>\n'
        f"<td>{named}</td><td>{esc(organism.siren)}</td><td>{esc(organism.family)}</td>"
        f"<td>{esc(organism.departement)}</td>"
        f'<td>{step}<span class="fr-sr-only"> {esc(r.step_label)}</span></td>'
        f'<td data-testid="row-deadline"><a href="{deadline_href}" title="{title}">'
        f"{deadline_badge(deadline, dossier, r.required)}</a>{why}</td>"
        f'<td class="num">{failing}</td>'
        f'<td data-testid="last-reminded">{reminded}</td><td>{transmitted}</td>'
        f"<td>{updated}</td></tr>\n"
    )


@register.simple_tag
def workspace_rows(page, campaign, document_type):
    """The rows of ``page`` (workflow.workspace.Row), or the line saying none matches."""
    dossier_url = _url("declarations:dossier")
    deadline_url = _url("declarations:deadline", campaign.pk, document_type.pk)
    rows = [_row(r, dossier_url, deadline_url) for r in page]
    if not rows:
        return mark_safe('<tr><td colspan="11">Aucun dossier ne correspond.</td></tr>')
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
