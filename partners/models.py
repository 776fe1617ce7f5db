"""Which partner receives which document, and when; what was sent; who read it.

A :class:`PartnerRule` says, per document type, whether a kind of partner (or one partner of
that kind) is imposed, forbidden or left to the organism's choice, and at which steps or
sub-steps documents go out automatically. A :class:`PartnerChoice` is the organism's tick for
a "choice" partner. A :class:`Transmission` is one sending: the snapshots of the dossier's
latest transmission and the values frozen then — all a partner user may read. Every read is an
:class:`AccessLog` row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from harmonia.documents import DocumentField

from organisms.models import Partner


class PartnerRule(models.Model):
    """Imposed, forbidden or left to choice: a kind of partner (every partner of that kind that
    concerns the organism — a préfecture only for its département) or one partner of that kind
    (which overrides the rule of its kind) for one document type."""

    class Mode(models.TextChoices):
        IMPOSED = "imposed", "imposé"
        FORBIDDEN = "forbidden", "interdit"
        CHOICE = "choice", "au choix de l'organisme"

    document_type = models.ForeignKey(
        "forms_cms.DocumentType",
        on_delete=models.CASCADE,
        related_name="partner_rules",
        verbose_name="type de document",
    )
    partner_kind = models.CharField(
        "type de partenaire", max_length=20, choices=Partner.Kind.choices
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name="partenaire précis",
        help_text="Vide : tous les partenaires de ce type concernés par l'organisme.",
    )
    mode = models.CharField("règle", max_length=10, choices=Mode.choices)
    # comma-separated sub-step codes ("4.1") and steps ("6"), e.g. "4.1,4.8,6"
    transmit_at = models.CharField("transmission automatique à", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "règle de transmission aux partenaires"
        verbose_name_plural = "règles de transmission aux partenaires"
        ordering = ["document_type__position", "partner_kind", "partner__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "partner_kind"],
                condition=models.Q(partner__isnull=True),
                name="partner_rule_one_per_kind",
            ),
            models.UniqueConstraint(
                fields=["document_type", "partner"],
                condition=models.Q(partner__isnull=False),
                name="partner_rule_one_per_partner",
            ),
        ]

    def __str__(self) -> str:
        who = self.partner.name if self.partner_id else self.get_partner_kind_display()
        return f"{self.document_type.code} — {who} : {self.get_mode_display()}"

    @property
    def moments(self) -> list[str]:
        """The sub-step codes and steps at which documents go out automatically."""
        return [code for code in (c.strip() for c in self.transmit_at.split(",")) if code]


class PartnerChoice(models.Model):
    """The organism's tick (or untick) for a partner left to its choice."""

    organism = models.ForeignKey(
        "organisms.Organism", on_delete=models.CASCADE, related_name="partner_choices"
    )
    document_type = models.ForeignKey(
        "forms_cms.DocumentType", on_delete=models.CASCADE, related_name="partner_choices"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="choices")
    chosen = models.BooleanField("transmettre", default=False)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="par",
    )
    chosen_at = models.DateTimeField("le", auto_now=True)

    class Meta:
        verbose_name = "choix de partenaire"
        verbose_name_plural = "choix de partenaires"
        constraints = [
            models.UniqueConstraint(
                fields=["organism", "document_type", "partner"], name="partner_choice_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organism} → {self.partner} : {'oui' if self.chosen else 'non'}"


class Transmission(models.Model):
    """One sending of a dossier to a partner, at one lifecycle event: the snapshots of the
    dossier's latest transmission (PDF, XML) and the values frozen then."""

    dossier = models.ForeignKey(
        "workflow.Dossier", on_delete=models.PROTECT, related_name="partner_transmissions"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="transmissions")
    step_change = models.ForeignKey(
        "workflow.StepChange",
        on_delete=models.PROTECT,
        related_name="partner_transmissions",
        verbose_name="événement",
    )
    snapshots = models.ManyToManyField(
        "workflow.DossierExport", related_name="partner_transmissions", verbose_name="documents"
    )
    form_version = models.ForeignKey(
        "forms_cms.FormVersion", on_delete=models.PROTECT, related_name="+"
    )
    values = DocumentField("valeurs saisies", default=dict)
    computed = DocumentField("valeurs calculées", default=dict)
    step_label = models.CharField("étape", max_length=200, blank=True)
    sent_at = models.DateTimeField("transmis le", auto_now_add=True)

    class Meta:
        verbose_name = "transmission à un partenaire"
        verbose_name_plural = "transmissions aux partenaires"
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["step_change", "partner"], name="partner_transmission_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["partner", "-sent_at"])]

    def __str__(self) -> str:
        return f"{self.dossier} → {self.partner} ({self.sent_at:%d/%m/%Y %H:%M})"


class AccessLog(models.Model):
    """One read by a partner user: the list, a transmission's values, a document downloaded.
    Refused reads (not transmitted to this partner) are logged too, with ``granted`` false."""

    class What(models.TextChoices):
        LIST = "list", "liste des documents transmis"
        VALUES = "values", "valeurs"
        PDF = "pdf", "PDF"
        XML = "xml", "XML"
        EXTRACTION = "extraction", "extraction en masse"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="utilisateur",
    )
    username = models.CharField("identifiant", max_length=150)
    partner = models.ForeignKey(
        Partner,
        null=True,
        on_delete=models.SET_NULL,
        related_name="access_logs",
        verbose_name="partenaire",
    )
    dossier = models.ForeignKey(
        "workflow.Dossier", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    transmission = models.ForeignKey(
        Transmission, null=True, on_delete=models.SET_NULL, related_name="access_logs"
    )
    what = models.CharField("consultation", max_length=10, choices=What.choices)
    granted = models.BooleanField("autorisée", default=True)
    path = models.CharField("adresse demandée", max_length=500, blank=True)
    at = models.DateTimeField("le", auto_now_add=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)

    class Meta:
        verbose_name = "consultation par un partenaire"
        verbose_name_plural = "consultations par les partenaires"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["partner", "-at"])]

    def __str__(self) -> str:
        return f"{self.username} — {self.get_what_display()} ({self.at:%d/%m/%Y %H:%M})"
