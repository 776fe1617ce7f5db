from django.conf import settings
from django.contrib.postgres.fields import ArrayField
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


class Accounting(models.TextChoices):
    """Régime comptable of an OPH (the deadline of its accounts depends on it)."""

    PUBLIQUE = "PUBLIQUE", "Comptabilité publique"
    COMMERCE = "COMMERCE", "Comptabilité de commerce"


# the federation an organism of the ministry platform belongs to (a federation platform's code)
FEDERATION_CHOICES = [
    ("oph", "Fédération des OPH"),
    ("esh", "Fédération des ESH"),
    ("coop", "Fédération des coopératives HLM"),
    ("epl", "Fédération des EPL"),
]
DEFAULT_CLOSING = "31/12"
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29/02: a leap year's


def closing_error(text: str) -> str | None:
    """Why ``text`` is not a closing day « jj/mm » (31/12, 30/06, 29/02), or None."""
    day, _, month = (text or "").partition("/")
    if not (day.isdigit() and month.isdigit() and len(day) <= 2 and len(month) <= 2):
        return f"Date de clôture « {text} » : écrivez le jour et le mois, comme 31/12 ou 30/06."
    day_n, month_n = int(day), int(month)
    if not 1 <= month_n <= 12 or not 1 <= day_n <= _DAYS_IN_MONTH[month_n - 1]:
        return f"Date de clôture « {text} » : ce jour n'existe pas (exemples : 31/12, 30/06)."
    return None


def validate_closing(value: str) -> None:
    if error := closing_error(value):
        raise ValidationError(error, code="closing")


class OrganismQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Organism(models.Model):
    """Organisme de logement social, identified by its SIREN on every platform."""

    siren = models.CharField("SIREN", max_length=9, unique=True, validators=[validate_siren])
    name = models.CharField("raison sociale", max_length=255)
    family = models.CharField("famille", max_length=10, choices=Family.choices)
    departement = models.CharField("département", max_length=3, choices=DEPARTEMENT_CHOICES)
    # what the deadline rules need: an OPH's accounting regime, the exercise's closing day (a
    # SEM may close on another day than 31 December), the federation (ministry platform)
    accounting = models.CharField(
        "régime comptable", max_length=10, choices=Accounting.choices, blank=True
    )
    closing = models.CharField(
        "clôture de l'exercice (jj/mm)",
        max_length=5,
        default=DEFAULT_CLOSING,
        validators=[validate_closing],
    )
    federation = models.CharField(
        "fédération", max_length=10, choices=FEDERATION_CHOICES, blank=True
    )
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganismQuerySet.as_manager()

    class Meta:
        verbose_name = "organisme"
        ordering = ["name"]
        indexes = [models.Index(fields=["family", "departement"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accounting="") | models.Q(family="OPH"),
                name="accounting_regime_only_for_oph",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.siren})"


class PartnerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Partner(models.Model):
    """Partenaire: an organisation that reads the documents transmitted to it. Which organisms
    it concerns depends on its kind (``organisms.selectors.partner_organisms``): all of them
    (CDC, CGLLS, ANCOLS), its département (préfecture, DDT/DDTM), its region's départements
    (DREAL), its federation's members (a federation on the ministry platform)."""

    class Kind(models.TextChoices):
        CDC = "CDC", "Caisse des dépôts (CDC)"
        CGLLS = "CGLLS", "CGLLS"
        ANCOLS = "ANCOLS", "ANCOLS"
        FEDERATION = "FEDERATION", "Fédération"
        PREFECTURE = "PREFECTURE", "Préfecture"
        DDT = "DDT", "DDT / DDTM"
        DREAL = "DREAL", "DREAL"

    # the kinds acting for one département, and for every organism
    LOCAL_KINDS = (Kind.PREFECTURE, Kind.DDT)
    NATIONAL_KINDS = (Kind.CDC, Kind.CGLLS, Kind.ANCOLS)

    name = models.CharField("nom", max_length=255, unique=True)
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    departement = models.CharField(
        "département", max_length=3, choices=DEPARTEMENT_CHOICES, blank=True
    )
    # a DREAL: its region and the départements it covers
    region = models.CharField("région", max_length=100, blank=True)
    departements = ArrayField(
        models.CharField(max_length=3, choices=DEPARTEMENT_CHOICES),
        verbose_name="départements couverts",
        default=list,
        blank=True,
    )
    # a federation (ministry platform): the code its members carry (Organism.federation)
    federation = models.CharField(
        "fédération", max_length=10, choices=FEDERATION_CHOICES, blank=True
    )
    # a deactivated partner receives nothing new and its users neither sign in nor read
    is_active = models.BooleanField("actif", default=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = "partenaire"
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind__in=["PREFECTURE", "DDT"]) | ~models.Q(departement=""),
                name="local_partner_has_departement",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["PREFECTURE", "DDT"]) | models.Q(departement=""),
                name="departement_only_for_local_partners",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="DREAL") | models.Q(departements__len__gt=0),
                name="dreal_has_departements",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="DREAL") | models.Q(departements=[]),
                name="departements_only_for_dreal",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="FEDERATION") | models.Q(federation=""),
                name="federation_code_only_for_federations",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        """Which organisms it concerns, in French."""
        if self.kind in self.LOCAL_KINDS:
            return f"Département {self.departement}"
        if self.kind == self.Kind.DREAL:
            region = f"Région {self.region} : " if self.region else "Départements "
            return region + ", ".join(self.departements)
        if self.kind == self.Kind.FEDERATION:
            if not self.federation:
                return "Aucun organisme (fédération à préciser)"
            return f"Adhérents : {self.get_federation_display()}"
        return "Tous les organismes"


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
