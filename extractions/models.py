"""A bulk extraction: the values of many dossiers of one campaign and document type, in one file
made by a worker, kept for a few days (``HARMONIA_EXTRACTION_DAYS``) then deleted.

The dossiers (or, for a partner, the transmissions) are fixed when it is asked for (``scope``)
and filtered again by the permission policy when the file is made; the file lives in the
``extractions`` storage (``STORAGES["extractions"]``), not in the database, since it may weigh
hundreds of megabytes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Extraction(models.Model):
    class Format(models.TextChoices):
        LONG_CSV = "long_csv", "CSV « long » : une ligne par dossier et par champ (zippé)"
        WIDE_CSV = (
            "wide_csv",
            "CSV « large » : une ligne par dossier, un fichier par liste (zippés)",
        )
        WIDE_XLSX = "wide_xlsx", "Excel « large » : une ligne par dossier, une feuille par liste"
        XML_ZIP = "xml_zip", "XML au format harmonisé : un fichier par dossier (zippés)"

    class Values(models.TextChoices):
        TRANSMITTED = "transmitted", "telles que transmises (dernière transmission)"
        CURRENT = "current", "actuelles (dossiers en fiabilisation et après)"

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        RUNNING = "running", "en cours"
        DONE = "done", "prête"
        FAILED = "failed", "échec"
        EXPIRED = "expired", "expirée"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="demandée par",
    )
    username = models.CharField("identifiant", max_length=150)
    # a partner's extraction: what was transmitted to it (``scope``: transmission ids)
    partner = models.ForeignKey(
        "organisms.Partner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="partenaire",
    )
    campaign = models.ForeignKey(
        "workflow.Campaign", on_delete=models.CASCADE, related_name="+", verbose_name="campagne"
    )
    document_type = models.ForeignKey(
        "forms_cms.DocumentType",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="document",
    )
    format = models.CharField("format", max_length=10, choices=Format.choices)
    values = models.CharField(
        "valeurs", max_length=12, choices=Values.choices, default=Values.TRANSMITTED
    )
    scope = models.JSONField("dossiers ou transmissions demandés", default=list, editable=False)
    scope_label = models.CharField("sélection", max_length=500, blank=True)
    # what the file holds: the dossiers (or transmissions) the policy let through when made
    included = models.JSONField("dossiers ou transmissions extraits", default=list, editable=False)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    dossier_count = models.PositiveIntegerField("dossiers extraits", default=0)
    error = models.TextField("erreur", blank=True)
    file = models.CharField("fichier stocké", max_length=300, blank=True, editable=False)
    filename = models.CharField("nom du fichier", max_length=255, blank=True)
    size = models.BigIntegerField("taille (octets)", default=0)
    requested_at = models.DateTimeField("demandée le", auto_now_add=True)
    finished_at = models.DateTimeField("terminée le", null=True, blank=True)
    expires_at = models.DateTimeField("supprimée le", null=True, blank=True)

    class Meta:
        verbose_name = "extraction en masse"
        verbose_name_plural = "extractions en masse"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="extraction_progress_max_100"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Extraction {self.document_type} {self.campaign} ({self.get_format_display()})"

    @property
    def finished(self) -> bool:
        return self.status not in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def downloadable(self) -> bool:
        return (
            self.status == self.Status.DONE
            and bool(self.file)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )
