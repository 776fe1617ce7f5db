"""API access tokens (jetons d'accès: the editors' import and export for an organism, the read
API for gestionnaires and partners); the tronc-commun bridge:
the configured pairs of counterpart documents, the organisms' consents and the journal."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models import SecurityEvent
from tenants.security_events import security_event_record

TOKEN_PREFIX = "hrm"  # noqa: S105 - a public marker, not a secret


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A secret that lets software act on one platform with the rights of the user who made
    it: an organisme user's imports and exports its organism's dossiers (editors' API); a
    gestionnaire's or a partner user's reads what that user may read (read API, app ``api``);
    a software editor's checks files against form versions without saving (editors' API,
    ``declarations/verifier``).

    Tokens live in the platform's schema, so a token works only on its platform. ``scope`` is
    the role of its user when it was made: a user whose role changed since holds a dead token.
    Only a hash is stored; the key is shown once, when created."""

    class Scope(models.TextChoices):
        ORGANISME = "organisme", "Import et export des déclarations de l'organisme"
        GESTIONNAIRE = "gestionnaire", "Lecture (gestionnaire)"
        PARTENAIRE = "partenaire", "Lecture (partenaire)"
        EDITEUR = "editeur", "Vérification de fichiers (éditeur de logiciel)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_tokens"
    )
    name = models.CharField("nom", max_length=100)
    scope = models.CharField(
        "portée", max_length=20, choices=Scope.choices, default=Scope.ORGANISME
    )
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d'accès API"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str) -> tuple[ApiToken, str]:
        """A new token for ``user``, scoped to its role (which must have one, see ``Scope``)."""
        scope = cls.Scope(user.role)  # ValueError for a role that holds no token
        prefix = secrets.token_hex(4)
        key = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            user=user, name=name, scope=scope, prefix=prefix, key_hash=cls.digest(key)
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> ApiToken | None:
        """The live token ``key`` names, or None; a refused key is recorded as a security
        event (its public prefix only, never the key)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            if key:
                _token_refused("Jeton d'un format inconnu.")
            return None
        token = cls.objects.active().select_related("user").filter(prefix=parts[1]).first()
        if token is None or not hmac.compare_digest(token.key_hash, cls.digest(key)):
            _token_refused(f"Jeton inconnu ou révoqué (préfixe {parts[1][:8]}).")
            return None
        if not token.user.is_active or token.user.role != token.scope:
            _token_refused(
                f"Jeton « {token.prefix} » d'un compte désactivé ou qui a changé de rôle.",
                username=token.user.get_username(),
            )
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token


def _token_refused(detail: str, username: str = "") -> None:
    security_event_record(SecurityEvent.Kind.API_TOKEN_REFUSED, detail=detail, username=username)


class TroncCommunPairing(models.Model):
    """The organism's consent, given on the platform that holds the source dossier: the named
    account of the other platform may « Rapatrier » this dossier's tronc commun.

    Without an active pairing the bridge reads nothing: a gestionnaire of the other platform
    cannot create an account for a SIREN and read its dossier here. Revoking ends it at once."""

    dossier = models.ForeignKey(
        "workflow.Dossier",
        on_delete=models.CASCADE,
        related_name="tc_pairings",
        verbose_name="dossier source",
    )
    platform = models.CharField("plateforme autorisée", max_length=20)
    account_email = models.EmailField("compte autorisé sur l'autre plateforme")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="autorisé par",
    )
    granted_at = models.DateTimeField("autorisé le", auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="retiré par",
    )
    revoked_at = models.DateTimeField("retiré le", null=True, blank=True)

    class Meta:
        verbose_name = "autorisation de rapatriement du tronc commun"
        verbose_name_plural = "autorisations de rapatriement du tronc commun"
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "platform"],
                condition=models.Q(revoked_at__isnull=True),
                name="tc_pairing_one_active_per_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} → {self.platform} ({self.account_email})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class TroncCommunEvent(models.Model):
    """Journal of the tronc-commun bridge, kept on both platforms: consents given and
    withdrawn, pulls made and refused."""

    class Kind(models.TextChoices):
        GRANTED = "granted", "autorisation donnée"
        REVOKED = "revoked", "autorisation retirée"
        PULLED = "pulled", "tronc commun rapatrié"
        REFUSED = "refused", "rapatriement refusé"

    dossier = models.ForeignKey(
        "workflow.Dossier",
        on_delete=models.CASCADE,
        related_name="tc_events",
        verbose_name="dossier",
    )
    kind = models.CharField("événement", max_length=10, choices=Kind.choices)
    other_platform = models.CharField("autre plateforme", max_length=20)
    account_email = models.EmailField("compte de l'autre plateforme", blank=True)
    detail = models.CharField("précision", max_length=255, blank=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="par",
    )
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "événement du rapatriement du tronc commun"
        verbose_name_plural = "journal du rapatriement du tronc commun"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.other_platform}"


class TroncCommunPair(models.Model):
    """A configured pair of counterpart documents (paire du tronc commun): a document of the
    ministry platform and the document of one federation platform that share its common
    fields, e.g. ER sociaux ↔ QDIS OPH, ER SEM ↔ QDIS SEM.

    Kept on the ministry platform only (its schema is the one every pair touches; federation
    platforms read it there) and edited by the ministry's gestionnaires
    (``declarations.services.tc_pairs``). Not to be confused with ``TroncCommunPairing``,
    the organism's consent to one pull."""

    ministry_document = models.ForeignKey(
        "forms_cms.DocumentType",
        on_delete=models.PROTECT,
        related_name="tc_pairs",
        verbose_name="document du ministère",
    )
    platform = models.CharField("plateforme fédérale", max_length=20)
    document_code = models.CharField("document de la fédération (code)", max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="ajoutée par",
    )
    created_at = models.DateTimeField("ajoutée le", auto_now_add=True)

    class Meta:
        verbose_name = "paire du tronc commun"
        verbose_name_plural = "paires du tronc commun"
        ordering = ["ministry_document__position", "ministry_document__code", "platform"]
        constraints = [
            # one counterpart per document and platform: « Rapatrier » and the report must
            # know which dossier is the other side
            models.UniqueConstraint(
                fields=["ministry_document", "platform"],
                name="tc_pair_one_per_ministry_document_and_platform",
            ),
            models.UniqueConstraint(
                fields=["platform", "document_code"],
                name="tc_pair_one_per_federation_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ministry_document.code} ↔ {self.platform}:{self.document_code}"
