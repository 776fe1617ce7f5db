"""Reads of forms data."""

from __future__ import annotations

from django.db.models import QuerySet

from forms_cms.models import FormVersion, SecondOpinion


def form_versions() -> QuerySet[FormVersion]:
    return FormVersion.objects.select_related("document_type", "campaign", "uploaded_by")


def second_opinion(version) -> SecondOpinion | None:
    """The second engine's verdict on ``version`` (None when none was asked for)."""
    return SecondOpinion.objects.filter(version=version).first()


def current_version(document_type, campaign) -> FormVersion | None:
    """The version dossiers of this campaign use: the latest uploaded for it."""
    return (
        FormVersion.objects.filter(document_type=document_type, campaign=campaign)
        .order_by("-number")
        .first()
    )


def campaigns() -> QuerySet:
    """The platform's campaigns, newest first. A form version belongs to a campaign
    (``FormVersion.campaign`` → ``workflow.Campaign``, a relation the model declares by name):
    forms_cms reaches campaigns through that relation rather than by importing the upper
    layer's models."""
    campaign_model = FormVersion._meta.get_field("campaign").related_model
    return campaign_model.objects.all()


def previous_exercise_fields(version) -> set[str] | None:
    """The field names (single fields and table columns) of the latest version of the same
    document for the exercise before ``version``'s, or None when there is none."""
    previous = (
        FormVersion.objects.filter(
            document_type_id=version.document_type_id,
            campaign__exercise=version.campaign.exercise - 1,
        )
        .order_by("-number")
        .first()
    )
    if previous is None:
        return None
    return set(previous.fields.values_list("name", flat=True))
