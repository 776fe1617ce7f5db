"""Running the service (public schema): anomalies, correspondents, releases, maintenance windows.

The app is shared only: its tables live in the public schema and are read from platform
requests too (the maintenance banner), where the search path falls back to ``public``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.models import Role, User
from organisms.siren import siren_error
from tenants.models import SecurityEvent
from tenants.platforms import PLATFORMS

PLATFORM_CHOICES = [(spec.code, spec.short_name) for spec in PLATFORMS]
MIN_WORDS, MAX_WORDS = 20, 40


def _word_count_validator(label: str):
    def validate(text: str) -> None:
        words = len(text.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise ValidationError(
                f"{label} doit compter entre %(min)d et %(max)d mots (%(count)d saisis).",
                params={"min": MIN_WORDS, "max": MAX_WORDS, "count": words},
                code="word_count",
            )

    return validate


def validate_short_description(text: str) -> None:
    """An anomaly's description: 20 to 40 words (CCTP 3.2.3 d)."""
    _word_count_validator("La description courte")(text)


def validate_request_description(text: str) -> None:
    """An evolution request's description: 20 to 40 words (CCTP 3.5.2 b)."""
    _word_count_validator("La description")(text)


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critique (bloquante)"
    MAJOR = "major", "Majeure"
    MINOR = "minor", "Mineure"


class Status(models.TextChoices):
    NEW = "new", "Nouvelle"
    ACKNOWLEDGED = "acknowledged", "Prise en compte"
    IN_PROGRESS = "in_progress", "En cours de correction"
    FIXED_TEST = "fixed_test", "Corrigée en recette"
    FIXED_PROD = "fixed_prod", "Corrigée en production"
    CLOSED = "closed", "Close"


RESOLVED_STATUSES = frozenset({Status.FIXED_PROD, Status.CLOSED})


class Correspondent(models.Model):
    """A person named by CGLLS who receives the anomaly and release e-mails; with an account
    (``user``), also reads and reports anomalies in the operator's space."""

    name = models.CharField("nom", max_length=200)
    email = models.EmailField("adresse électronique", unique=True)
    active = models.BooleanField("actif", default=True)
    platforms = ArrayField(
        models.CharField(max_length=10, choices=PLATFORM_CHOICES),
        verbose_name="plateformes suivies",
        default=list,
        blank=True,
        help_text="Anomalies de ces plateformes seulement ; aucune cochée : toutes.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="correspondent",
        verbose_name="compte d'accès au suivi",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "correspondant"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def platform_labels(self) -> list[str]:
        labels = dict(PLATFORM_CHOICES)
        return [labels.get(code, code) for code in self.platforms]


class Anomaly(models.Model):
    number = models.CharField("numéro", max_length=20, unique=True, editable=False)
    short_description = models.TextField(
        "description courte", validators=[validate_short_description]
    )
    severity = models.CharField("gravité", max_length=10, choices=Severity.choices)
    status = models.CharField("statut", max_length=15, choices=Status.choices, default=Status.NEW)
    found_on = models.DateField("constatée le")
    acknowledged_at = models.DateTimeField("prise en compte le", null=True, blank=True)
    fixed_test_on = models.DateField("corrigée en recette le", null=True, blank=True)
    fixed_prod_on = models.DateField("corrigée en production le", null=True, blank=True)
    release = models.ForeignKey(
        "operations.Release",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="anomalies",
        verbose_name="version de livraison",
    )
    reporter = models.CharField("signalée par", max_length=200)
    platforms = ArrayField(
        models.CharField(max_length=10, choices=PLATFORM_CHOICES),
        verbose_name="plateformes concernées",
        default=list,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "anomalie"

    def __str__(self) -> str:
        return self.number

    @property
    def is_resolved(self) -> bool:
        return self.status in RESOLVED_STATUSES

    def platform_labels(self) -> list[str]:
        labels = dict(PLATFORM_CHOICES)
        return [labels.get(code, code) for code in self.platforms]


class AnomalyEvent(models.Model):
    """One change of an anomaly: creation, status, severity; who, when, why."""

    anomaly = models.ForeignKey(Anomaly, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    old_status = models.CharField(max_length=15, choices=Status.choices, blank=True)
    new_status = models.CharField(max_length=15, choices=Status.choices, blank=True)
    old_severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    new_severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.anomaly_id} @ {self.at:%d/%m/%Y %H:%M}"


class Reclassification(models.Model):
    """A request to change an anomaly's severity, with its justification and decision."""

    anomaly = models.ForeignKey(Anomaly, on_delete=models.CASCADE, related_name="reclassifications")
    requested_severity = models.CharField(
        "gravité demandée", max_length=10, choices=Severity.choices
    )
    justification = models.TextField("justification")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    accepted = models.BooleanField("acceptée", null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.anomaly_id} → {self.requested_severity}"


class Release(models.Model):
    """A version of Harmonia, the version tracking document's line ("document de suivi des
    versions", CCTP 3.2.2 b): its changes, the anomalies it fixes and the evolution requests
    it delivers (their ``release``), its delivery on the test platform and in production."""

    number = models.CharField("numéro de version", max_length=30, unique=True)
    test_on = models.DateField("livrée sur la plateforme de tests le", null=True, blank=True)
    date = models.DateField("mise en production le")
    corrections = models.TextField("corrections", blank=True)
    evolutions = models.TextField("évolutions", blank=True)
    published = models.BooleanField("publiée", default=False)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = "version"

    def __str__(self) -> str:
        return self.number


class MaintenanceStatus(models.TextChoices):
    REQUESTED = "requested", "Demandée"
    APPROVED = "approved", "Approuvée"
    REFUSED = "refused", "Refusée"


class MaintenanceWindow(models.Model):
    """A planned interruption (CCTP 3.2.5): requested by the operator's staff at least 48 h
    ahead (less only to fix a blocking anomaly), approved or refused by CGLLS; once approved,
    announced on the affected platforms 7 days ahead and e-mailed to their users."""

    platforms = ArrayField(
        models.CharField(max_length=10, choices=PLATFORM_CHOICES),
        verbose_name="plateformes concernées",
    )
    features = models.TextField(
        "fonctionnalités concernées",
        blank=True,
        help_text="Périmètre précis : laissé vide, toute la plateforme est indisponible.",
    )
    reason = models.CharField("motif", max_length=300)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    blocking_anomaly = models.ForeignKey(
        Anomaly,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        verbose_name="anomalie bloquante corrigée",
    )
    status = models.CharField(
        "statut",
        max_length=10,
        choices=MaintenanceStatus.choices,
        default=MaintenanceStatus.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decision_comment = models.TextField("motif de la décision", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "maintenance programmée"

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_at:%d/%m/%Y %H:%M})"

    def platform_labels(self) -> list[str]:
        labels = dict(PLATFORM_CHOICES)
        return [labels.get(code, code) for code in self.platforms]

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "La fin doit suivre le début."})


# --- Hotline log ------------------------------------------------------------------------------

HOTLINE_PLATFORM_CHOICES = [*PLATFORM_CHOICES, ("public", "Site public")]


def validate_optional_siren(value: str) -> None:

    if value and (error := siren_error(value)):
        raise ValidationError(error, code="siren")


class HotlineChannel(models.TextChoices):
    PHONE = "phone", "Téléphone"
    EMAIL = "email", "Courriel"
    FORM = "form", "Formulaire"


class HotlineSubject(models.TextChoices):
    ACCOUNT = "account", "Compte et connexion"
    ENTRY = "entry", "Saisie"
    XML_IMPORT = "xml_import", "Import XML"
    CONTROLS = "controls", "Contrôles"
    TRANSMISSION = "transmission", "Transmission"
    PARTNERS = "partners", "Partenaires"
    OTHER = "other", "Autre"


class HotlineStatus(models.TextChoices):
    OPEN = "open", "Ouvert"
    IN_PROGRESS = "in_progress", "En cours"
    RESOLVED = "resolved", "Résolu"


class HotlineContact(models.Model):
    """One call, e-mail or form message received by the hotline."""

    received_at = models.DateTimeField("reçu le")
    channel = models.CharField("canal", max_length=10, choices=HotlineChannel.choices)
    platform = models.CharField("plateforme", max_length=10, choices=HOTLINE_PLATFORM_CHOICES)
    caller_name = models.CharField("appelant", max_length=200)
    organism_name = models.CharField("organisme", max_length=300, blank=True)
    siren = models.CharField(
        "SIREN", max_length=9, blank=True, validators=[validate_optional_siren]
    )
    subject = models.CharField("sujet", max_length=15, choices=HotlineSubject.choices)
    description = models.TextField("description")
    status = models.CharField(
        "statut", max_length=15, choices=HotlineStatus.choices, default=HotlineStatus.OPEN
    )
    resolution = models.TextField("résolution", blank=True)
    resolved_at = models.DateTimeField("résolu le", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "contact hotline"
        indexes = [models.Index(fields=["received_at"])]

    def __str__(self) -> str:
        return f"{self.caller_name} ({self.received_at:%d/%m/%Y %H:%M})"


class ActivityReport(models.Model):
    """A produced monthly activity report of one platform and exercise (PDF and XLSX kept)."""

    platform = models.CharField("plateforme", max_length=10, choices=PLATFORM_CHOICES)
    exercise = models.PositiveSmallIntegerField("exercice")
    produced_at = models.DateTimeField("produit le", auto_now_add=True)
    pdf = models.BinaryField("PDF", editable=False)
    xlsx = models.BinaryField("XLSX", editable=False)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-produced_at", "-id"]
        verbose_name = "rapport d'activité"

    def __str__(self) -> str:
        return f"{self.platform} {self.exercise} {self.produced_at:%Y-%m-%d %H:%M}"


# --- Evolution requests (maintenance évolutive, CCTP 3.5.2) ------------------------------------


class RequesterKind(models.TextChoices):
    """Who first expressed the request (CCTP 3.5.2 a)."""

    ORGANISM = "organism", "Organisme"
    MINISTRY = "ministry", "Ministère"
    FEDERATION = "federation", "Fédération"
    PARTNER = "partner", "Partenaire"
    CGLLS = "cglls", "CGLLS (ou son assistant à maîtrise d'ouvrage)"
    OPERATOR = "operator", "Titulaire"


class EvolutionPriority(models.TextChoices):
    HIGH = "high", "Élevé"
    MEDIUM = "medium", "Moyen"
    LOW = "low", "Faible"


class EvolutionStatus(models.TextChoices):
    TO_DECIDE = "to_decide", "À décider"
    RETAINED = "retained", "Retenue"
    ABANDONED = "abandoned", "Abandonnée"
    DELIVERED = "delivered", "Réalisée"


class EvolutionRequest(models.Model):
    """One line of the evolution requests register ("document synthétique de suivi des
    demandes d'évolution"): recorded by the operator's staff, estimated after the steering
    committee, decided by CGLLS, delivered by a release."""

    number = models.CharField("numéro", max_length=20, unique=True, editable=False)
    description = models.TextField("description", validators=[validate_request_description])
    requested_on = models.DateField("demandée le")
    requester = models.CharField("demandeur principal", max_length=200)
    requester_kind = models.CharField(
        "origine de la demande", max_length=12, choices=RequesterKind.choices
    )
    all_federations = models.BooleanField(
        "à mettre en œuvre pour toutes les fédérations",
        default=False,
        help_text="Une demande d'une fédération vaut, sauf exception, pour toutes.",
    )
    platforms = ArrayField(
        models.CharField(max_length=10, choices=PLATFORM_CHOICES),
        verbose_name="plateformes concernées",
        default=list,
    )
    priority = models.CharField(
        "niveau de priorité", max_length=10, choices=EvolutionPriority.choices, blank=True
    )
    person_days = models.DecimalField(
        "jours/homme proposés", max_digits=6, decimal_places=2, null=True, blank=True
    )
    cost = models.DecimalField(
        "coût global proposé (€ HT)", max_digits=10, decimal_places=2, null=True, blank=True
    )
    delay = models.CharField("délai de mise en œuvre", max_length=100, blank=True)
    status = models.CharField(
        "situation",
        max_length=10,
        choices=EvolutionStatus.choices,
        default=EvolutionStatus.TO_DECIDE,
    )
    release = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evolution_requests",
        verbose_name="version de livraison",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_on", "-number"]
        verbose_name = "demande d'évolution"
        verbose_name_plural = "demandes d'évolution"

    def __str__(self) -> str:
        return self.number

    def platform_labels(self) -> list[str]:
        labels = dict(PLATFORM_CHOICES)
        return [labels.get(code, code) for code in self.platforms]


# --- Form-integration workload (CCTP 3.2.6 a) --------------------------------------------------


class FormWorkEntry(models.Model):
    """Time the operator spent testing and integrating one platform's form version (the 30
    person-days a year included in corrective maintenance; beyond, evolutive maintenance)."""

    day = models.DateField("date")
    platform = models.CharField("plateforme", max_length=10, choices=PLATFORM_CHOICES)
    form_version = models.CharField(
        "formulaire et version", max_length=120, help_text="Par exemple : QDIS OPH 2025 v2."
    )
    person_days = models.DecimalField(
        "temps passé (jours/homme)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("5"))],
    )
    description = models.TextField("travaux réalisés")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = "temps d'intégration de formulaire"
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.platform} {self.form_version} {self.day:%d/%m/%Y}"


# --- Security supervision ---------------------------------------------------------------------
# The events themselves are ``tenants.SecurityEvent`` (public schema, written by the low layers
# through ``tenants.security_events``); here, what the operator decides about them.

SECURITY_PLATFORM_CHOICES = [*PLATFORM_CHOICES, ("public", "Hôte public (opérateur)")]
MAX_WINDOW_MINUTES = 7 * 24 * 60

MSG_RULE_NO_RECIPIENT = (
    "Une règle sans destinataire n'alerterait personne : cochez la CGLLS ou l'équipe de "
    "maintenance, ou saisissez au moins une adresse électronique."
)
MSG_RULE_NOBODY_ACTIVE = (
    "Aucun compte actif {roles} n'a d'adresse électronique : cette règle n'alerterait "
    "personne. Saisissez au moins une adresse électronique."
)


class SecurityAlertRule(models.Model):
    """An alert rule (règle d'alerte): when ``threshold`` events of ``kind`` (of one platform,
    or of all) happen within ``window_minutes``, one e-mail goes to the recipients — and no
    other for this rule until a whole window has passed (``last_alert_at``): a burst that goes
    on makes one e-mail per window, not one per event."""

    kind = models.CharField("type d'événement", max_length=30, choices=SecurityEvent.Kind.choices)
    platform = models.CharField(
        "plateforme",
        max_length=10,
        choices=SECURITY_PLATFORM_CHOICES,
        blank=True,
        help_text="Vide : les événements de toutes les plateformes.",
    )
    threshold = models.PositiveIntegerField(
        "seuil (nombre d'événements)",
        validators=[MinValueValidator(1)],
        help_text="L'alerte part quand ce nombre est atteint dans la fenêtre.",
    )
    window_minutes = models.PositiveIntegerField(
        "fenêtre (minutes)",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_MINUTES)],
    )
    notify_cglls = models.BooleanField("alerter la CGLLS", default=True)
    notify_maintenance = models.BooleanField("alerter l'équipe de maintenance", default=True)
    emails = ArrayField(
        models.EmailField(),
        verbose_name="autres destinataires",
        default=list,
        blank=True,
    )
    active = models.BooleanField("active", default=True)
    last_alert_at = models.DateTimeField("dernière alerte", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "platform", "threshold"]
        verbose_name = "règle d'alerte de sécurité"
        verbose_name_plural = "règles d'alerte de sécurité"

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} : {self.threshold} en {self.window_minutes} min"
            f" ({self.get_platform_display() or 'toutes les plateformes'})"
        )

    def recipient_roles(self) -> list[str]:
        return [
            role
            for role, ticked in (
                (Role.CGLLS, self.notify_cglls),
                (Role.MAINTENANCE, self.notify_maintenance),
            )
            if ticked
        ]

    def recipients(self) -> list[str]:
        """The addresses an alert goes to now: the active public-host accounts of the ticked
        roles, then the other addresses; each once."""
        found = list(
            User.objects.filter(role__in=self.recipient_roles(), is_active=True)
            .exclude(email="")
            .order_by("email")
            .values_list("email", flat=True)
        )
        return list(dict.fromkeys([*found, *self.emails]))

    def clean(self) -> None:
        if not self.recipient_roles() and not self.emails:
            raise ValidationError(MSG_RULE_NO_RECIPIENT, code="no_recipient")
        if not self.recipients():
            roles = " ou ".join(Role(role).label for role in self.recipient_roles())
            raise ValidationError(
                MSG_RULE_NOBODY_ACTIVE.format(roles=roles), code="no_active_recipient"
            )


class SecurityAlert(models.Model):
    """One alert e-mail sent by a rule: when, for how many events, to whom."""

    rule = models.ForeignKey(
        SecurityAlertRule, on_delete=models.CASCADE, related_name="alerts", verbose_name="règle"
    )
    sent_at = models.DateTimeField("envoyée le")
    event_count = models.PositiveIntegerField("événements dans la fenêtre")
    recipients = ArrayField(models.EmailField(), verbose_name="destinataires", default=list)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = "alerte de sécurité envoyée"
        verbose_name_plural = "alertes de sécurité envoyées"
        indexes = [models.Index(fields=["sent_at"])]

    def __str__(self) -> str:
        return f"{self.rule} — {self.sent_at:%d/%m/%Y %H:%M}"
