"""The exchange space of a dossier: messages between the organism and the gestionnaires."""

from __future__ import annotations

from django.conf import settings
from django.db import models

BODY_MAX_CHARS = 10_000


class Message(models.Model):
    """One message of a dossier's thread, written by an organisme user or a gestionnaire."""

    dossier = models.ForeignKey(
        "workflow.Dossier", on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="exchange_messages",
        verbose_name="auteur",
    )
    body = models.TextField("message", max_length=BODY_MAX_CHARS, blank=True)
    created_at = models.DateTimeField("envoyé le", auto_now_add=True)

    class Meta:
        verbose_name = "message"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["dossier", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author} — {self.created_at:%d/%m/%Y %H:%M}"


class Attachment(models.Model):
    """A file joined to a message. Its type is the one read from its content."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", "pièce jointe"
        PROROGATION = "prorogation", "décision de prorogation de l'assemblée générale"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("nature", max_length=20, choices=Kind.choices, default=Kind.DOCUMENT)
    filename = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField("type (lu dans le contenu)", max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    content = models.BinaryField("contenu", editable=False)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_prorogation(self) -> bool:
        return self.kind == self.Kind.PROROGATION


class ReadMark(models.Model):
    """Up to when a person has read a dossier's thread: later messages by others are unread."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exchange_read_marks"
    )
    dossier = models.ForeignKey(
        "workflow.Dossier", on_delete=models.CASCADE, related_name="exchange_read_marks"
    )
    last_read_at = models.DateTimeField("lu jusqu'au")

    class Meta:
        verbose_name = "lecture"
        constraints = [
            models.UniqueConstraint(fields=["user", "dossier"], name="exchange_read_mark_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.dossier_id} — {self.last_read_at:%d/%m/%Y %H:%M}"
