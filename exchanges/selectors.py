"""Who reads which exchange space, and what is unread.

A dossier's exchange space is open to the dossier's organisme users (their organism is the
dossier's) and to the platform's gestionnaires; to nobody else."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Role
from declarations.selectors import dossiers_visible_to
from exchanges.models import Attachment, Message, ReadMark
from workflow.models import Dossier
from workflow.policy import DossierPolicy

EXCHANGE_ROLES = (Role.ORGANISME, Role.GESTIONNAIRE)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def exchange_allowed(dossier: Dossier, user) -> bool:
    """Whether ``user`` may read and write ``dossier``'s exchange space (at every step)."""
    return DossierPolicy(user, dossier).can_use_exchange


def exchange_dossier(user, pk: int) -> Dossier | None:
    """The dossier ``pk`` if ``user`` may use its exchange space, else ``None``."""
    dossier = dossiers_visible_to(user).filter(pk=pk).first()
    if dossier is None or not exchange_allowed(dossier, user):
        return None
    return dossier


def thread_messages(dossier: Dossier) -> QuerySet[Message]:
    """The thread, oldest first, with authors and attachments (without their content)."""
    return (
        Message.objects.filter(dossier=dossier)
        .select_related("author", "author__membership__organism")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.defer("content").order_by("pk"))
        )
        .order_by("created_at", "pk")
    )


def last_read_at(dossier: Dossier, user) -> dt.datetime | None:
    return (
        ReadMark.objects.filter(dossier=dossier, user=user)
        .values_list("last_read_at", flat=True)
        .first()
    )


def unread_messages(dossier: Dossier, user) -> QuerySet[Message]:
    """Messages written by others after ``user`` last read the thread."""
    messages = Message.objects.filter(dossier=dossier).exclude(author=user)
    since = last_read_at(dossier, user)
    if since is not None:
        messages = messages.filter(created_at__gt=since)
    return messages


def unread_count(dossier: Dossier, user) -> int:
    return unread_messages(dossier, user).count()


def exchange_overview(user, *, prorogation_only: bool = False, unread_only: bool = False):
    """The dossiers ``user`` sees that have messages, with counts, newest activity first."""
    read_until = ReadMark.objects.filter(dossier=OuterRef("pk"), user=user).values("last_read_at")[
        :1
    ]
    dossiers = (
        dossiers_visible_to(user)
        .filter(messages__isnull=False)
        .annotate(
            read_until=Coalesce(
                Subquery(read_until, output_field=DateTimeField()),
                Value(_EPOCH, output_field=DateTimeField()),
            )
        )
        .annotate(
            message_count=Count("messages", distinct=True),
            last_message_at=Max("messages__created_at"),
            unread=Count(
                "messages",
                filter=~Q(messages__author=user) & Q(messages__created_at__gt=F("read_until")),
                distinct=True,
            ),
            has_prorogation=Exists(
                Attachment.objects.filter(
                    message__dossier=OuterRef("pk"), kind=Attachment.Kind.PROROGATION
                )
            ),
        )
    )
    if prorogation_only:
        dossiers = dossiers.filter(has_prorogation=True)
    if unread_only:
        dossiers = dossiers.filter(unread__gt=0)
    return dossiers.order_by("-last_message_at", "pk")
