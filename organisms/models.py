from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from organisms.siren import DEPARTEMENTS, siren_error

DEPARTEMENT_CHOICES = [(code, code) for code in DEPARTEMENTS]


def validate_siren(value: str) -> None:
    error = siren_error(value)
    if error:
        raise ValidationError(error, code="siren")


class Family(models.TextChoices):
    """Famille d'organisme."""

    OPH = "OPH", "Office public de l'habitat (OPH)"
    ESH = "ESH", "Entreprise sociale pour l'habitat (ESH)"
    COOP = "COOP", "Coopérative HLM"
    EPL = "EPL", "EPL / SEM"
    MOI = "MOI", "Maîtrise d'ouvrage d'insertion (MOI)"
    SAC = "SAC", "SAC / coordination"
    GROUPE = "GROUPE", "Groupe"


class OrganismQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Organism(models.Model):
    """Organisme de logement social, identified by its SIREN on every platform."""

    siren = models.CharField("SIREN", max_length=9, unique=True, validators=[validate_siren])
    name = models.CharField("raison sociale", max_length=255)
    family = models.CharField("famille", max_length=10, choices=Family.choices)
    departement = models.CharField("département", max_length=3, choices=DEPARTEMENT_CHOICES)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganismQuerySet.as_manager()

    class Meta:
        verbose_name = "organisme"
        ordering = ["name"]
        indexes = [models.Index(fields=["family", "departement"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.siren})"


class Partner(models.Model):
    """Partenaire: an organisation that reads the documents transmitted to it."""

    class Kind(models.TextChoices):
        CDC = "CDC", "Caisse des dépôts (CDC)"
        CGLLS = "CGLLS", "CGLLS"
        ANCOLS = "ANCOLS", "ANCOLS"
        FEDERATION = "FEDERATION", "Fédération"
        PREFECTURE = "PREFECTURE", "Préfecture"
        DDT = "DDT", "DDT / DDTM"
        DREAL = "DREAL", "DREAL"

    name = models.CharField("nom", max_length=255, unique=True)
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    departement = models.CharField(
        "département", max_length=3, choices=DEPARTEMENT_CHOICES, blank=True
    )

    class Meta:
        verbose_name = "partenaire"
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="PREFECTURE") | ~models.Q(departement=""),
                name="prefecture_has_departement",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """What a platform account is bound to: an organism (organisme users) or a partner."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organism = models.ForeignKey(
        Organism, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )

    class Meta:
        verbose_name = "rattachement"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organism__isnull=True) | models.Q(partner__isnull=True),
                name="membership_one_binding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.organism or self.partner}"


class RegistryImport(models.Model):
    """One application of a registry file (journal des imports du référentiel)."""

    file_name = models.CharField(max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "import du référentiel"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%d/%m/%Y %H:%M})"
