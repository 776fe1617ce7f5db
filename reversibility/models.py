"""The exit drill's reports (« exercice de réversibilité », CCTP 3.6 and 3.7.3 §3), kept in
the public schema and read in the operator's space."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DrillReport(models.Model):
    """One run of ``manage.py reversibility_drill``: the instance exported, imported into a
    scratch database and compared. ``summary`` holds the figures (counts per table, the
    differences, the durations, the technical accesses to revoke); ``pdf`` and ``markdown``
    are the report as handed to CGLLS."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Réussi : aucune différence"
        DIFFERENCES = "differences", "Différences constatées"
        FAILED = "failed", "Échec"

    started_at = models.DateTimeField("commencé le")
    finished_at = models.DateTimeField("terminé le")
    outcome = models.CharField("résultat", max_length=12, choices=Outcome.choices)
    run_by = models.CharField("lancé par", max_length=150, blank=True)
    tables = models.PositiveIntegerField("tables comparées", default=0)
    rows = models.PositiveBigIntegerField("lignes comparées", default=0)
    differences = models.PositiveIntegerField("différences", default=0)
    error = models.TextField("erreur", blank=True)
    summary = models.JSONField("détail", default=dict)
    markdown = models.TextField("rapport (Markdown)")
    pdf = models.BinaryField("rapport (PDF)", editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "exercice de réversibilité"
        verbose_name_plural = "exercices de réversibilité"

    def __str__(self) -> str:
        return f"Exercice de réversibilité du {timezone.localtime(self.started_at):%d/%m/%Y %H:%M}"
