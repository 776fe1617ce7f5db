from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.platforms import PUBLIC_SCHEMA, TEMPLATE_SCHEMA


class PlatformQuerySet(models.QuerySet):
    def declaration_platforms(self):
        """The five platforms people declare on (not the public host nor the template)."""
        return self.exclude(schema_name__in=[PUBLIC_SCHEMA, TEMPLATE_SCHEMA]).order_by("position")


class Platform(TenantMixin):
    """A Harmonia platform (plateforme): one PostgreSQL schema, one host name."""

    class Kind(models.TextChoices):
        PUBLIC = "public", "Hôte public"
        TEMPLATE = "template", "Modèle de schéma"
        MINISTRY = "ministry", "Ministère"
        FEDERATION = "federation", "Fédération"

    code = models.SlugField("code", max_length=20, unique=True)
    name = models.CharField("nom", max_length=200)
    short_name = models.CharField("nom court", max_length=100)
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    family = models.CharField("famille fédérée", max_length=10, blank=True)
    collects = models.CharField("documents collectés", max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    max_users_per_organism = models.PositiveSmallIntegerField(
        "utilisateurs par organisme au plus",
        null=True,
        blank=True,
        help_text="Vide : la valeur par défaut du service.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True

    objects = PlatformQuerySet.as_manager()

    class Meta:
        verbose_name = "plateforme"
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @property
    def tagline(self) -> str:
        """The platform's name under the header's « Harmonia » (« Fédération des OPH »), not
        « Harmonia » twice."""
        return self.name.removeprefix("Harmonia — ")

    @property
    def user_limit_per_organism(self) -> int:
        return self.max_users_per_organism or settings.HARMONIA_MAX_USERS_PER_ORGANISM


class Domain(DomainMixin):
    class Meta:
        verbose_name = "nom d'hôte"
