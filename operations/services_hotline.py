"""Writes of the hotline log: a contact recorded, then handled until resolved."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from operations.models import HotlineContact, HotlineStatus


@transaction.atomic
def hotline_contact_create(*, by, **fields) -> HotlineContact:
    """Record a call, e-mail or form message received by the hotline."""
    contact = HotlineContact(created_by=by, **fields)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def hotline_contact_update(
    contact: HotlineContact, *, status: str, resolution: str, now=None
) -> HotlineContact:
    """Move a contact's status; its resolution time is set when it becomes resolved (kept if
    it already was) and cleared when it is reopened."""
    contact = HotlineContact.objects.select_for_update().get(pk=contact.pk)
    contact.status, contact.resolution = status, resolution
    if status == HotlineStatus.RESOLVED:
        contact.resolved_at = contact.resolved_at or now or timezone.now()
    else:
        contact.resolved_at = None
    contact.full_clean(exclude=["created_by"])  # contacts imported without an author
    contact.save(update_fields=["status", "resolution", "resolved_at"])
    return contact
