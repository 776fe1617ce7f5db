"""What a person follows on a platform, and what happened since their last e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    WIKI = "wiki", "Tout le contenu (wiki, FAQ, manuels)"
    SECTION = "section", "Une rubrique et ses sous-pages"
    EDITORS = (
        "editors",
        "Mises à jour pour les éditeurs (versions de formulaires, XSD, spécifications)",
    )


class Subscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name="utilisateur",
    )
    scope = models.CharField("portée", max_length=16, choices=Scope.choices)
    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="rubrique",
        help_text="Pour une rubrique : la page suivie, avec toutes ses sous-pages.",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "abonnement"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "page"],
                name="subscription_unique_with_page",
            ),
            # (user, scope, NULL) would not collide under a plain unique constraint
            models.UniqueConstraint(
                fields=["user", "scope"],
                condition=models.Q(page__isnull=True),
                name="subscription_unique_without_page",
            ),
            models.CheckConstraint(
                condition=(models.Q(scope="section") & models.Q(page__isnull=False))
                | (~models.Q(scope="section") & models.Q(page__isnull=True)),
                name="subscription_page_only_for_section",
            ),
        ]

    def __str__(self) -> str:
        if self.scope == Scope.SECTION and self.page_id:
            return f"Rubrique « {self.page.title} »"
        return self.get_scope_display()


class PendingNotification(models.Model):
    """One line of a subscriber's next e-mail; deleted once the e-mail is sent."""

    class Kind(models.TextChoices):
        PAGE_PUBLISHED = "page_published", "Nouvelle page"
        PAGE_UPDATED = "page_updated", "Page mise à jour"
        FORM_VERSION = "form_version", "Nouvelle version de formulaire"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="pending", verbose_name="abonnement"
    )
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    # what the line is about ("page:12", "form_version:3"): one line per subscriber and subject
    key = models.CharField("objet", max_length=64)
    title = models.CharField("titre", max_length=255)
    url = models.URLField("lien", max_length=500)
    extra = models.JSONField("liens complémentaires", default=list, blank=True)
    happened_at = models.DateTimeField("survenu le")

    class Meta:
        verbose_name = "notification en attente"
        ordering = ["happened_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "key"], name="pending_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.title}"
