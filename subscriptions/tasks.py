"""The subscribers' digest job. Discovered by procrastinate (``tasks`` modules)."""

from __future__ import annotations

from tenants.jobs import tenant_task


@tenant_task(name="subscriptions.send_digest", retry=3)
def send_digest(*, user_id: int) -> int:
    """One e-mail with everything pending for ``user_id``; nothing when nothing is pending."""
    from subscriptions.services import digest_send

    return digest_send(user_id)
