from django.conf import settings
from django.db import models
from django.utils import timezone
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


class SecurityEvent(models.Model):
    """One security event of any platform (événement de sécurité), kept in the public schema
    so that the operator reads every platform's in one place. Written only through
    ``tenants.security_events.security_event_record`` (one INSERT, never in the way of the
    request that triggers it); alert rules and the operator's screen are in ``operations``."""

    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", "Échec de connexion"
        LOCKOUT = "lockout", "Compte verrouillé (trop d'échecs)"
        API_TOKEN_REFUSED = "api_token_refused", "Jeton d'API refusé"
        RATE_LIMITED = "rate_limited", "Limite de requêtes dépassée"
        UPLOAD_REFUSED = "upload_refused", "Classeur dangereux refusé"
        XML_IMPORT_REFUSED = "xml_import_refused", "Import XML refusé"
        PARTNER_READS = "partner_reads", "Consultations inhabituelles d'un partenaire"
        DB_READONLY_GRANT = "db_readonly_grant", "Accès en lecture seule à la base accordé"
        DB_READONLY_REVOKE = "db_readonly_revoke", "Accès en lecture seule à la base retiré"

    occurred_at = models.DateTimeField("le", default=timezone.now)
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    # the schema the event happened in: a platform's code, or "public" (operator's space,
    # management commands)
    platform = models.CharField("plateforme", max_length=63, blank=True)
    username = models.CharField("identifiant", max_length=150, blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    detail = models.CharField("détail", max_length=500, blank=True)
    request_id = models.CharField("requête", max_length=128, blank=True)

    class Meta:
        verbose_name = "événement de sécurité"
        verbose_name_plural = "événements de sécurité"
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["kind", "occurred_at"], name="securityevent_kind_at"),
            models.Index(fields=["occurred_at"], name="securityevent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.platform} ({self.occurred_at:%d/%m/%Y %H:%M})"
