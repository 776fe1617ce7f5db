"""Reads of forms data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django_tenants.utils import schema_context

from accounts.models import Role
from forms_cms.models import FormVersion, SecondOpinion, VersionFile
from tenants.models import Platform

# who sees a draft version (brouillon): those who prepare forms and those who write software
# for them; organisms and partners see published versions only
DRAFT_READERS = frozenset({Role.GESTIONNAIRE, Role.EDITEUR})


def form_versions() -> QuerySet[FormVersion]:
    """Every version, drafts included: for the gestionnaires' screens and internal reads."""
    return FormVersion.objects.select_related("document_type", "campaign", "uploaded_by")


def published_versions() -> QuerySet[FormVersion]:
    """The published versions (a draft has no ``published_at``): the only ones organisms and
    partners see, and those the ministry's editors' section lists and serves across platforms.
    Gestionnaires and editors see drafts too on their platform (:func:`versions_visible_to`)."""
    return form_versions().filter(published_at__isnull=False)


def versions_visible_to(user) -> QuerySet[FormVersion]:
    """The versions ``user`` may list, open and download: drafts for gestionnaires and
    editors only. Every screen, download and API answer that lists or serves versions asks
    this (an anonymous visitor sees published ones; the views require a sign-in anyway)."""
    if getattr(user, "role", None) in DRAFT_READERS:
        return form_versions()
    return published_versions()


# files anyone on the platform may download; the compiled formulas stay internal
PUBLIC_FILES = (VersionFile.Kind.SOURCE, VersionFile.Kind.SPECIFICATION, VersionFile.Kind.XSD)
CHANGE_KINDS = ("added", "removed", "retyped", "formula_changed", "moved")


def version_file_kinds(version_ids=None) -> dict[int, set[str]]:
    """Version id → kinds of the public files it has (without loading their content)."""
    files = VersionFile.objects.filter(kind__in=PUBLIC_FILES)
    if version_ids is not None:
        files = files.filter(version_id__in=version_ids)
    kinds: dict[int, set[str]] = defaultdict(set)
    for version_id, kind in files.values_list("version_id", "kind"):
        kinds[version_id].add(kind)
    return kinds


def editor_versions(user=None) -> list[FormVersion]:
    """This platform's versions ``user`` may see (published ones without a user), newest
    exercise first, each with ``file_kinds`` and ``change_counts`` (fields added, removed…
    since the version before)."""
    shown = versions_visible_to(user) if user is not None else published_versions()
    versions = list(
        shown.select_related("change_list").order_by(
            "-campaign__exercise", "document_type__position", "-number"
        )
    )
    kinds = version_file_kinds([v.pk for v in versions])
    for version in versions:
        version.file_kinds = kinds.get(version.pk, set())
        changes = version.changes or {}
        version.change_counts = {key: len(changes.get(key) or []) for key in CHANGE_KINDS}
    return versions


@dataclass
class PlatformVersions:
    code: str
    name: str
    versions: list[FormVersion]


def every_platform_editor_versions(user=None) -> list[PlatformVersions]:
    """The published versions of every platform, read in each platform's schema (the
    ministry's editors' section lists them all, so that one editor account there is
    enough), and of the current platform those ``user`` may see (its drafts for its
    gestionnaires and editors). Two queries per platform; every value the page shows is
    loaded inside the platform's schema (nothing lazy is left to read from another one)."""
    here = connection.schema_name
    found = []
    for platform in Platform.objects.declaration_platforms():
        with schema_context(platform.schema_name):
            versions = editor_versions(user if platform.schema_name == here else None)
            found.append(PlatformVersions(platform.code, platform.short_name, versions))
    return found


def platform_published_version(code: str, pk: int) -> FormVersion | None:
    """One published version of platform ``code`` with its public files' kinds, read in that
    platform's schema; None when there is no such platform or version."""
    platform = Platform.objects.declaration_platforms().filter(code=code).first()
    if platform is None:
        return None
    with schema_context(platform.schema_name):
        version = (
            published_versions().select_related("previous", "change_list").filter(pk=pk).first()
        )
        if version is not None:
            version.platform = platform
            version.file_kinds = version_file_kinds([pk]).get(pk, set())
        return version


def platform_version_file(code: str, pk: int, kind: str) -> VersionFile | None:
    """A public file of a published version of platform ``code``, read in its schema."""
    if kind not in PUBLIC_FILES:
        return None
    platform = Platform.objects.declaration_platforms().filter(code=code).first()
    if platform is None:
        return None
    with schema_context(platform.schema_name):
        return VersionFile.objects.filter(
            version__in=published_versions().filter(pk=pk), kind=kind
        ).first()


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
