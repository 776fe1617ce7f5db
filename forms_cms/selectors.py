"""Reads of forms data."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role
from forms_cms.models import FormVersion, SecondOpinion

# who sees a draft version (brouillon): those who prepare forms and those who write software
# for them; organisms and partners see published versions only
DRAFT_READERS = frozenset({Role.GESTIONNAIRE, Role.EDITEUR})


def form_versions() -> QuerySet[FormVersion]:
    """Every version, drafts included: for the gestionnaires' screens and internal reads."""
    return FormVersion.objects.select_related("document_type", "campaign", "uploaded_by")


def published_versions() -> QuerySet[FormVersion]:
    return form_versions().filter(published_at__isnull=False)


def versions_visible_to(user) -> QuerySet[FormVersion]:
    """The versions ``user`` may list, open and download: drafts for gestionnaires and
    editors only. Every screen, download and API answer that lists or serves versions asks
    this (an anonymous visitor sees published ones; the views require a sign-in anyway)."""
    if getattr(user, "role", None) in DRAFT_READERS:
        return form_versions()
    return published_versions()


def second_opinion(version) -> SecondOpinion | None:
    """The second engine's verdict on ``version`` (None when none was asked for)."""
    return SecondOpinion.objects.filter(version=version).first()


def current_version(document_type, campaign) -> FormVersion | None:
    """The version dossiers of this campaign use: the latest published for it (a draft is
    never opened by a dossier)."""
    return (
        FormVersion.objects.filter(
            document_type=document_type, campaign=campaign, published_at__isnull=False
        )
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
            published_at__isnull=False,
        )
        .order_by("-number")
        .first()
    )
    if previous is None:
        return None
    return set(previous.fields.values_list("name", flat=True))
