"""The gestionnaires' private annotations on an organism's document of a campaign (« annotations
privées », as Démarches Simplifiées calls them): notes, kept as written, and the « à suivre »
flag. Only the platform's gestionnaires read and write them; the organism and the partners
never see them, in no page, export or API.

They are keyed by organism, campaign and document (not by dossier), as prorogations are: a
gestionnaire may annotate an organism that has not opened its dossier yet. Each write is
journaled in Wagtail's log (without the note's text: the note itself is the record).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from wagtail.log_actions import log

from accounts.models import Role
from workflow.models import FollowUp, PrivateNote

NOTE_MAX_LENGTH = 4000
MSG_ONLY_GESTIONNAIRE = (
    "Seuls les gestionnaires de la plateforme lisent et écrivent les annotations privées."
)
MSG_NOTE_EMPTY = "La note est vide : écrivez son texte avant de l'ajouter."
MSG_NOTE_TOO_LONG = (
    "La note compte {length} caractères : {limit} au plus. Raccourcissez-la ou partagez-la "
    "en plusieurs notes."
)
MSG_NOT_OF_CAMPAIGN = "Ce document n'est pas demandé par cette campagne."


def may_annotate(user) -> bool:
    """Whether ``user`` reads and writes the private annotations: an active gestionnaire of
    this platform (users live in their platform's schema: another platform's are unknown)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == Role.GESTIONNAIRE
    )


def _check(acting_user, campaign, document_type) -> None:
    if not may_annotate(acting_user):
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)
    if not campaign.document_types.filter(pk=document_type.pk).exists():
        raise ValidationError(MSG_NOT_OF_CAMPAIGN)


def _journal(instance, action: str, acting_user, organism, campaign, document_type, **data):
    log(
        instance=instance,
        action=action,
        user=acting_user,
        deleted=action == "harmonia.follow_up_unset",
        data={
            "organism": organism.siren,
            "document": document_type.code,
            "exercise": campaign.exercise,
            **data,
        },
    )


def note_add(*, organism, campaign, document_type, body: str, acting_user) -> PrivateNote:
    """Add a note; raises ValidationError (on ``body``: empty, too long) and saves nothing."""
    _check(acting_user, campaign, document_type)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": MSG_NOTE_EMPTY})
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"body": MSG_NOTE_TOO_LONG.format(length=len(body), limit=NOTE_MAX_LENGTH)}
        )
    with transaction.atomic():
        note = PrivateNote.objects.create(
            organism=organism,
            campaign=campaign,
            document_type=document_type,
            body=body,
            author=acting_user,
        )
        _journal(
            note,
            "harmonia.note_added",
            acting_user,
            organism,
            campaign,
            document_type,
            length=len(body),
        )
    return note


def follow_up_set(*, organism, campaign, document_type, acting_user) -> FollowUp:
    """Flag the organism's document « à suivre » (already flagged: unchanged, not journaled)."""
    _check(acting_user, campaign, document_type)
    key = {"organism": organism, "campaign": campaign, "document_type": document_type}
    existing = FollowUp.objects.filter(**key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            flag = FollowUp.objects.create(**key, flagged_by=acting_user)
            _journal(flag, "harmonia.follow_up_set", acting_user, organism, campaign, document_type)
    except IntegrityError:  # a colleague flagged it at the same moment
        return FollowUp.objects.get(**key)
    return flag


def follow_up_unset(*, organism, campaign, document_type, acting_user) -> bool:
    """Take the « à suivre » flag off; False when it was not set."""
    _check(acting_user, campaign, document_type)
    with transaction.atomic():
        flag = (
            FollowUp.objects.select_for_update()
            .filter(organism=organism, campaign=campaign, document_type=document_type)
            .first()
        )
        if flag is None:
            return False
        _journal(
            flag,
            "harmonia.follow_up_unset",
            acting_user,
            organism,
            campaign,
            document_type,
            flagged_by=flag.flagged_by.get_username() if flag.flagged_by else "",
        )
        flag.delete()
    return True


# --- reads (the callers check :func:`may_annotate`) ----------------------------------------------
@dataclass(frozen=True)
class Marks:
    """What a list shows of an organism's annotations: the flag and the number of notes."""

    follow_up: bool = False
    notes: int = 0


def notes_of(organism, campaign, document_type):
    """The notes, newest first, with their authors."""
    return PrivateNote.objects.filter(
        organism=organism, campaign=campaign, document_type=document_type
    ).select_related("author")


def follow_up_of(organism, campaign, document_type) -> FollowUp | None:
    return (
        FollowUp.objects.filter(organism=organism, campaign=campaign, document_type=document_type)
        .select_related("flagged_by")
        .first()
    )


def marks_for(campaign, document_type, organism_ids=None) -> dict[int, Marks]:
    """{organism id: its marks} for one campaign's document, in two queries whatever the
    number of organisms (``organism_ids``: only those; None: every organism annotated)."""
    notes = PrivateNote.objects.filter(campaign=campaign, document_type=document_type)
    flags = FollowUp.objects.filter(campaign=campaign, document_type=document_type)
    if organism_ids is not None:
        notes = notes.filter(organism_id__in=organism_ids)
        flags = flags.filter(organism_id__in=organism_ids)
    counts = dict(
        notes.order_by()
        .values("organism_id")
        .annotate(n=Count("pk"))
        .values_list("organism_id", "n")
    )
    flagged = set(flags.values_list("organism_id", flat=True))
    return {
        organism_id: Marks(follow_up=organism_id in flagged, notes=counts.get(organism_id, 0))
        for organism_id in set(counts) | flagged
    }


def organisms_noted(campaign, document_type, text: str):
    """The ids (a subquery) of the organisms whose notes on this campaign's document contain
    ``text`` (whatever its case)."""
    return PrivateNote.objects.filter(
        campaign=campaign, document_type=document_type, body__icontains=text
    ).values("organism_id")
