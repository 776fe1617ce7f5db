"""The organism's consent to the tronc-commun bridge (autorisation de rapatriement).

Given on the platform that holds the source dossier, by that dossier's own organisme users:
the named account of the counterpart platform may then « Rapatrier » this dossier's common
fields. A gestionnaire of the other platform can create an account for any SIREN; only the
organism, signed in here, can let that account read this dossier.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from declarations.models import TroncCommunEvent, TroncCommunPairing
from declarations.services.tronc_commun import (
    MINISTRY,
    MSG_NOT_COMMON,
    NothingToSync,
    common_field_names,
    common_table_names,
    counterpart_dossier_id,
    counterpart_of,
    platform_short_name,
    require_tc_owner,
    tc_journal,
)

EMAIL_MAX_LENGTH = 254

MSG_EMAIL_EMPTY = (
    "Indiquez l'adresse e-mail du compte qui rapatriera le tronc commun sur la plateforme "
    "« {platform} »."
)
MSG_EMAIL_INVALID = (
    "« {email} » n'est pas une adresse e-mail valide : saisissez l'adresse de votre compte sur "
    "la plateforme « {platform} », par exemple prenom.nom@organisme.fr."
)
MSG_ALREADY_ACTIVE = (
    "Le compte {email} est déjà autorisé pour la plateforme « {platform} » : pour autoriser un "
    "autre compte, retirez d'abord cette autorisation."
)
MSG_GRANTED_MEANWHILE = (
    "Un collègue vient d'autoriser un compte pour la plateforme « {platform} » : rechargez la "
    "page pour le voir ; rien n'a été enregistré."
)
MSG_ALREADY_REVOKED = "Cette autorisation a déjà été retirée : rien n'a changé."


class PairingRefused(Exception):
    """Nothing was saved; ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


def grant_label(puller: str) -> str:
    """The words of the consent button, naming who will pull."""
    if puller == MINISTRY:
        return "Autoriser la plateforme du ministère à rapatrier mon tronc commun"
    return "Autoriser la fédération à rapatrier mon tronc commun"


def tc_pairing_target(dossier) -> str:
    """The platform that may pull this dossier's tronc commun, or raise NothingToSync."""
    code, _ = counterpart_of(dossier)
    version = dossier.form_version
    if not (common_field_names(version) or common_table_names(version)):
        raise NothingToSync(MSG_NOT_COMMON)
    return code


def _clean_email(raw: str, platform: str) -> str:
    email = (raw or "").strip()
    if not email:
        raise PairingRefused(MSG_EMAIL_EMPTY.format(platform=platform), field="account_email")
    try:
        if len(email) > EMAIL_MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise PairingRefused(
            MSG_EMAIL_INVALID.format(email=email[:80], platform=platform),
            field="account_email",
        ) from None
    # accounts are matched case-insensitively; stored as one spelling for the journal
    return email.lower()


def tc_pairings_of(dossier) -> QuerySet[TroncCommunPairing]:
    """The consents this dossier gave, newest first (active and withdrawn)."""
    return dossier.tc_pairings.select_related("granted_by", "revoked_by")


def tc_events_of(dossier, *, limit: int = 100) -> list[TroncCommunEvent]:
    """The bridge's journal for this dossier, newest first."""
    return list(dossier.tc_events.select_related("acting_user")[:limit])


def tc_pairing_grant(*, dossier, account_email: str, acting_user) -> TroncCommunPairing:
    """Let ``account_email``, an account of the counterpart platform, pull this dossier's
    tronc commun. Journaled here and on the counterpart dossier when it exists."""
    require_tc_owner(dossier, acting_user)
    platform = tc_pairing_target(dossier)
    name = platform_short_name(platform)
    email = _clean_email(account_email, name)
    active = dossier.tc_pairings.filter(platform=platform, revoked_at__isnull=True).first()
    if active is not None:
        raise PairingRefused(
            MSG_ALREADY_ACTIVE.format(email=active.account_email, platform=name),
            field="account_email",
        )
    _, other_dossier_id = counterpart_dossier_id(dossier)
    try:
        with transaction.atomic():
            pairing = TroncCommunPairing.objects.create(
                dossier=dossier, platform=platform, account_email=email, granted_by=acting_user
            )
            tc_journal(
                kind=TroncCommunEvent.Kind.GRANTED,
                dossier=dossier,
                other_platform=platform,
                other_dossier_id=other_dossier_id,
                acting_user=acting_user,
                account_email=email,
                other_detail=f"compte autorisé : {email}",
            )
    except IntegrityError:  # a colleague granted one at the same moment
        raise PairingRefused(
            MSG_GRANTED_MEANWHILE.format(platform=name), field="account_email"
        ) from None
    return pairing


def tc_pairing_revoke(*, pairing: TroncCommunPairing, acting_user) -> TroncCommunPairing:
    """Withdraw a consent: later pulls by that account are refused at once."""
    dossier = pairing.dossier
    require_tc_owner(dossier, acting_user)
    try:
        code, other_dossier_id = counterpart_dossier_id(dossier)
    except NothingToSync:  # the organism changed family since: withdrawing must still work
        code, other_dossier_id = pairing.platform, None
    if code != pairing.platform:
        other_dossier_id = None
    with transaction.atomic():
        locked = TroncCommunPairing.objects.select_for_update().get(pk=pairing.pk)
        if locked.revoked_at is not None:
            raise PairingRefused(MSG_ALREADY_REVOKED)
        locked.revoked_at = timezone.now()
        locked.revoked_by = acting_user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        tc_journal(
            kind=TroncCommunEvent.Kind.REVOKED,
            dossier=dossier,
            other_platform=locked.platform,
            other_dossier_id=other_dossier_id,
            acting_user=acting_user,
            account_email=locked.account_email,
            other_detail=f"compte dont l'autorisation est retirée : {locked.account_email}",
        )
    pairing.revoked_at, pairing.revoked_by = locked.revoked_at, locked.revoked_by
    return pairing
