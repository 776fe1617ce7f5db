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
