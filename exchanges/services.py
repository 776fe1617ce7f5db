"""Writing in a dossier's exchange space: messages, attachments, read marks, notifications."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template import loader
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from exchanges import filetypes
from exchanges.models import BODY_MAX_CHARS, Attachment, Message, ReadMark
from exchanges.selectors import exchange_allowed, unread_count
from organisms.services.memberships import current_platform
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import Dossier

__all__ = [
    "MAX_FILES",
    "MessageRefused",
    "attachment_check",
    "attachment_size_error",
    "max_attachment_bytes",
    "message_post",
    "thread_mark_read",
    "unread_count",
]

MAX_FILES = 5
MB = 1024 * 1024

MSG_EMPTY = "Écrivez un message ou joignez au moins un fichier."
MSG_TOO_LONG = "Le message dépasse {limit} caractères ({length} saisis) : raccourcissez-le."
MSG_TOO_MANY = (
    "{limit} fichiers au plus par message ({count} joints) : envoyez-les en plusieurs fois."
)
MSG_TOO_BIG = "« {name} » pèse {size}, au-delà de la limite de {limit} par fichier."
MSG_EMPTY_FILE = "« {name} » est vide."
MSG_UNKNOWN = (
    "« {name} » n'est pas un fichier d'un type accepté ({accepted}) : son contenu ne "
    "correspond à aucun de ces formats."
)
MSG_NOT_ACCEPTED = (
    "« {name} » : {label}, type non accepté ici ({accepted}) ; enregistrez-le dans un de "
    "ces formats."
)
MSG_MISMATCH = (
    "« {name} » : son extension ne correspond pas à son contenu ({label}, extension attendue "
    "{expected}) ; renommez-le ou déposez le bon fichier."
)
MSG_PROROGATION_TYPE = (
    "« {name} » : la décision de prorogation doit être un PDF ou une image (PNG, JPEG)."
)
MSG_KIND = "Nature de pièce jointe inconnue : {kind}."


class MessageRefused(Exception):
    """The message was not posted; ``errors`` (French) say why. Nothing was stored."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    kind: str
    file_kind: filetypes.FileKind
    content: bytes


def max_attachment_bytes() -> int:
    return settings.HARMONIA_ATTACHMENT_MAX_BYTES


def size_label(size: int) -> str:
    """``size`` bytes in French: '10 Mo', '2,5 Mo', '12 Ko'."""
    if size < MB:
        return f"{-(-size // 1024)} Ko"
    value = size / MB
    text = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
    return f"{text.replace('.', ',')} Mo"


def clean_filename(name: str) -> str:
    """The last component of ``name``, without control characters, at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not name:
        return "fichier"
    if len(name) > 255:
        ext = filetypes.extension(name)
        keep = 255 - (len(ext) + 1 if ext else 0)
        name = name[:keep] + (f".{ext}" if ext else "")
    return name


def attachment_size_error(name: str, size: int) -> str | None:
    """The refusal for a file of ``size`` bytes, or ``None``; views call it before reading."""
    limit = max_attachment_bytes()
    if size > limit:
        return MSG_TOO_BIG.format(name=name, size=size_label(size), limit=size_label(limit))
    return None


def attachment_check(name: str, content: bytes, kind: str) -> tuple[CheckedFile | None, str]:
    """Check one file: size, type read from its content, extension agreeing with it, and what
    a prorogation decision may be. Returns the checked file, or ``None`` and the refusal."""
    name = clean_filename(name)
    accepted = filetypes.ACCEPTED_LABEL
    if kind not in Attachment.Kind.values:
        return None, MSG_KIND.format(kind=kind)
    if not content:
        return None, MSG_EMPTY_FILE.format(name=name)
    too_big = attachment_size_error(name, len(content))
    if too_big:
        return None, too_big
    detected = filetypes.detect(content)
    if detected is None:
        return None, MSG_UNKNOWN.format(name=name, accepted=accepted)
    if detected not in filetypes.ACCEPTED:
        return None, MSG_NOT_ACCEPTED.format(name=name, label=detected.label, accepted=accepted)
    if filetypes.extension(name) not in detected.extensions:
        expected = " ou ".join(f".{ext}" for ext in detected.extensions)
        return None, MSG_MISMATCH.format(name=name, label=detected.label, expected=expected)
    if kind == Attachment.Kind.PROROGATION and detected not in (
        filetypes.PDF,
        *filetypes.IMAGES,
    ):
        return None, MSG_PROROGATION_TYPE.format(name=name)
    return CheckedFile(filename=name, kind=kind, file_kind=detected, content=content), ""


def message_post(
    *,
    dossier: Dossier,
    author,
    body: str,
    files: list[tuple[str, bytes, str]] | None = None,
) -> Message:
    """Post a message, with up to ``MAX_FILES`` attachments given as (name, content, kind)
    where kind is "document" or "prorogation". Everything is checked first: any problem
    refuses the whole message with every problem listed (:class:`MessageRefused`) and stores
    nothing. The other side is notified by e-mail, with a link to the thread."""
    if not exchange_allowed(dossier, author):
        raise PermissionDenied("Vous n'avez pas accès à l'espace d'échange de ce dossier.")
    files = list(files or [])
    body = (body or "").replace("\r\n", "\n").strip()
    errors: list[str] = []
    if not body and not files:
        errors.append(MSG_EMPTY)
    if len(body) > BODY_MAX_CHARS:
        errors.append(
            MSG_TOO_LONG.format(limit=f"{BODY_MAX_CHARS:_}".replace("_", " "), length=len(body))
        )
    if len(files) > MAX_FILES:
        errors.append(MSG_TOO_MANY.format(limit=MAX_FILES, count=len(files)))
    checked: list[CheckedFile] = []
    for name, content, kind in files[: MAX_FILES * 2]:
        result, error = attachment_check(name, content, kind)
        if result is None:
            errors.append(error)
        else:
            checked.append(result)
    if errors:
        raise MessageRefused(errors)
    with transaction.atomic():
        message = Message.objects.create(dossier=dossier, author=author, body=body)
        Attachment.objects.bulk_create(
            Attachment(
                message=message,
                kind=item.kind,
                filename=item.filename,
                content_type=item.file_kind.content_type,
                size=len(item.content),
                content=item.content,
                sha256=hashlib.sha256(item.content).hexdigest(),
            )
            for item in checked
        )
        # The author has read the thread up to their own message.
        ReadMark.objects.update_or_create(
            user=author, dossier=dossier, defaults={"last_read_at": message.created_at}
        )
        _notify(message=message, checked=checked)
    return message


def thread_mark_read(*, dossier: Dossier, user) -> ReadMark | None:
    """Mark the thread read up to its latest message (none yet: nothing to mark)."""
    if not exchange_allowed(dossier, user):
        raise PermissionDenied("Vous n'avez pas accès à l'espace d'échange de ce dossier.")
    latest = (
        Message.objects.filter(dossier=dossier)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return None
    mark, created = ReadMark.objects.get_or_create(
        user=user, dossier=dossier, defaults={"last_read_at": latest}
    )
    if not created and mark.last_read_at < latest:
        mark.last_read_at = latest
        mark.save(update_fields=["last_read_at"])
    return mark


def notification_recipients(*, dossier: Dossier, author) -> list[User]:
    """The other side: gestionnaires when an organisme user writes, the dossier's organisme
    users when a gestionnaire writes. Active accounts with an address, never the author."""
    users = User.objects.filter(is_active=True).exclude(pk=author.pk).exclude(email="")
    if author.role == Role.GESTIONNAIRE:
        users = users.filter(role=Role.ORGANISME, membership__organism_id=dossier.organism_id)
    else:
        users = users.filter(role=Role.GESTIONNAIRE)
    return list(users.order_by("pk"))


def _notify(*, message: Message, checked: list[CheckedFile]) -> None:
    """One e-mail per recipient (addresses are not disclosed to each other), saying who wrote
    in which dossier, with a link; the message itself stays on the platform."""
    dossier = message.dossier
    recipients = notification_recipients(dossier=dossier, author=message.author)
    if not recipients:
        return
    context = {
        "dossier": dossier,
        "author": message.author,
        "author_is_gestionnaire": message.author.role == Role.GESTIONNAIRE,
        "platform": current_platform(),
        "url": absolute_url(reverse("exchanges:thread", args=[dossier.pk])),
        "attachment_count": len(checked),
        "has_prorogation": any(c.kind == Attachment.Kind.PROROGATION for c in checked),
        "sent_at": timezone.localtime(message.created_at),
    }
    subject = " ".join(
        loader.render_to_string("exchanges/email/new_message_subject.txt", context).split()
    )
    for user in recipients:
        body = loader.render_to_string(
            "exchanges/email/new_message.txt", {**context, "recipient": user}
        )
        queue_email(subject=subject, body=body, to=[user.email])
