"""Reads of forms data."""

from __future__ import annotations

from django.db.models import QuerySet

from forms_cms.models import FormVersion


def form_versions() -> QuerySet[FormVersion]:
    return FormVersion.objects.select_related("document_type", "campaign", "uploaded_by")


def current_version(document_type, campaign) -> FormVersion | None:
    """The version dossiers of this campaign use: the latest uploaded for it."""
    return (
        FormVersion.objects.filter(document_type=document_type, campaign=campaign)
        .order_by("-number")
        .first()
    )
