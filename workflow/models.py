from django.conf import settings
from django.db import models
from django.utils import timezone

from forms_cms.models import DocumentType


class CampaignQuerySet(models.QuerySet):
    def open_on(self, day):
        return self.filter(opening_date__lte=day, deadline__gte=day)


class Campaign(models.Model):
    """Campagne de collecte: one exercise, the documents collected, its dates."""

    exercise = models.PositiveSmallIntegerField("exercice")
    document_types = models.ManyToManyField(
        DocumentType, verbose_name="documents collectés", related_name="campaigns"
    )
    opening_date = models.DateField("date d'ouverture")
    deadline = models.DateField("date limite de transmission")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="ouverte par",
    )
    opened_at = models.DateTimeField("ouverte le", auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne"
        ordering = ["-exercise", "-opening_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("opening_date")),
                name="campaign_deadline_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"Campagne {self.exercise}"

    @property
    def is_open(self) -> bool:
        return self.opening_date <= timezone.localdate() <= self.deadline


class Dossier(models.Model):
    """One organism's document for one campaign: its values on one form version.

    ``values`` holds what was entered (input fields, name → value as the formula engine
    represents it: numbers, dates as serial numbers, text, booleans); ``computed`` holds the
    computed fields, recomputed whenever inputs change. Every change is recorded as a
    :class:`ValueChange`."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.PROTECT, related_name="dossiers"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="dossiers")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="dossiers"
    )
    form_version = models.ForeignKey(
        "forms_cms.FormVersion",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name="version du formulaire",
    )
    values = models.JSONField("valeurs saisies", default=dict)
    computed = models.JSONField("valeurs calculées", default=dict)
    revision = models.PositiveIntegerField("révision", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "dossier"
        constraints = [
            models.UniqueConstraint(
                fields=["organism", "campaign", "document_type"], name="dossier_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type.code} {self.campaign.exercise} — {self.organism}"


class ValueChange(models.Model):
    """History of a dossier's values: who, when, which field, old → new, and from where."""

    class Source(models.TextChoices):
        MANUAL = "manual", "saisie"
        IMPORT = "import", "import XML"
        SYNCHRONISATION = "synchronisation", "rapatriement du tronc commun"
        VERSION_MIGRATION = "version_migration", "changement de version du formulaire"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="changes")
    field_name = models.CharField("champ", max_length=255)
    old_value = models.JSONField("ancienne valeur", null=True)
    new_value = models.JSONField("nouvelle valeur", null=True)
    source = models.CharField("origine", max_length=20, choices=Source.choices)
    note = models.CharField("précision", max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "modification de valeur"
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["dossier", "field_name"])]

    def __str__(self) -> str:
        return f"{self.field_name}: {self.old_value!r} → {self.new_value!r}"


class DossierExport(models.Model):
    """A document generated from a dossier in the background (the PDF now, the XML later):
    its progress while a worker makes it, then its content to download."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"

    class Status(models.TextChoices):
        PENDING = "pending", "en attente"
        RUNNING = "running", "en cours"
        DONE = "done", "prêt"
        FAILED = "failed", "échec"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.PDF)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    content = models.BinaryField("contenu", null=True, blank=True, editable=False)
    filename = models.CharField("nom du fichier", max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="demandé par",
    )
    requested_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        verbose_name = "document généré"
        verbose_name_plural = "documents générés"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="dossier_export_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.dossier} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
