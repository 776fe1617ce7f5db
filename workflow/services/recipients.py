"""Who receives what the campaign sends an organism (reminders, prorogations): the addresses
of its active organisme users, one e-mail each (addresses are not disclosed to each other)."""

from __future__ import annotations

from accounts.models import Role, User


def recipients_of(organism_ids) -> dict[int, list[str]]:
    """{organism id: the addresses of its active organisme users}."""
    found: dict[int, list[str]] = {}
    users = (
        User.objects.filter(
            is_active=True, role=Role.ORGANISME, membership__organism_id__in=list(organism_ids)
        )
        .exclude(email="")
        .order_by("pk")
        .values_list("membership__organism_id", "email")
    )
    for organism_id, email in users:
        found.setdefault(organism_id, []).append(email)
    return found
