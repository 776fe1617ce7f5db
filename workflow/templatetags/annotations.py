"""The gestionnaires' private annotations in a dossier's head:
``{% load annotations %}{% annotations_line dossier %}`` prints the « à suivre » badge and the
number of notes, with a link to them; nothing, and no query, for anyone but a gestionnaire."""

from __future__ import annotations

from django import template

from workflow.services.annotations import Marks, marks_for, may_annotate

register = template.Library()


@register.inclusion_tag("declarations/_annotations_line.html", takes_context=True)
def annotations_line(context, dossier):
    if not may_annotate(context.get("user")):
        return {"shown": False}
    marks = marks_for(dossier.campaign_id, dossier.document_type_id, [dossier.organism_id]).get(
        dossier.organism_id, Marks()
    )
    return {"shown": True, "dossier": dossier, "marks": marks}
