"""Wagtail's publications feed the subscribers' pending notifications."""

from __future__ import annotations

from django.dispatch import receiver
from wagtail.signals import page_published

PUBLISH_ACTIONS = ("wagtail.publish", "wagtail.publish.scheduled")


def first_publication(page, revision=None) -> bool:
    """Wagtail sets both dates to the same instant on a page's first publication. The dates
    come from the revision's object, which may have been serialised from a stale instance, so
    an earlier publication in the page's history also counts as "already published"."""
    from wagtail.models import PageLogEntry

    if page.first_published_at is not None and page.first_published_at != page.last_published_at:
        return False
    earlier = PageLogEntry.objects.filter(page_id=page.pk, action__in=PUBLISH_ACTIONS)
    if revision is not None:  # this publication's own entry, should it be logged already
        earlier = earlier.exclude(revision_id=revision.pk)
    return not earlier.exists()


@receiver(page_published, dispatch_uid="subscriptions.page_published")
def on_page_published(sender, instance, revision=None, **kwargs) -> None:
    from subscriptions.services import notify_page_published

    notify_page_published(instance, first=first_publication(instance, revision))


def on_version_published(sender, version, **kwargs) -> None:
    """A form version went live (``forms_cms.signals.version_published``, inside its
    transaction; never for a draft): the editors' subscribers get the version page, its XSD
    and its specification file."""
    from subscriptions.services import notify_form_version

    notify_form_version(version)
