"""The tronc-commun pairs (paires du tronc commun): which document of the ministry platform
shares its common fields with which document of a federation platform — ER sociaux ↔ QDIS OPH,
QDIS ESH and QDIS COOP, ER SEM ↔ QDIS SEM as seeded. « Rapatrier » (``sync``, ``pairing``) and
the federations' activity report (``operations.activity``) ask here; nothing else names a
document of the other side.

Where it lives and who edits it: in the ministry platform's schema (``dhup``), read from a
federation platform through ``schema_context`` as the bridge already reads the other side. The
ministry's schema is the one every pair touches, so each pair exists once and the two sides
can never disagree. The ministry's gestionnaires edit it: a pair opens the ministry's dossiers
to the bridge (the common fields, with the organism's consent) and puts the progress of its
ER in the federation's report, which is the ministry's to decide. A federation's gestionnaires
read the pairs that name their platform on the same screen.

A pair is refused, with the reason and nothing saved, when it names a document unknown on its
platform, joins two documents of the same platform, repeats a pair, or gives a document a
second counterpart on the same platform (the bridge and the report must know which dossier is
the other side).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context
from wagtail.log_actions import log

from accounts.models import Role
from declarations.models import TroncCommunPair
from forms_cms.models import DocumentType
from tenants.platforms import PLATFORMS, platform_spec

MINISTRY = "dhup"

# The pairs of a fresh install (the 2024 campaigns): seeded once on the ministry platform,
# then the gestionnaires'. (ministry document, federation platform, federation document)
DEFAULT_PAIRS = (
    ("ER_SOCIAUX", "oph", "QDIS_OPH"),
    ("ER_SOCIAUX", "esh", "QDIS_ESH"),
    ("ER_SOCIAUX", "coop", "QDIS_COOP"),
    ("ER_SEM", "epl", "QDIS_SEM"),
)

MSG_NOT_MINISTRY_GESTIONNAIRE = (
    "Les paires du tronc commun sont réglées par les gestionnaires de la plateforme du ministère."
)
MSG_MINISTRY_DOCUMENT_EMPTY = "Choisissez le document du ministère."
MSG_MINISTRY_DOCUMENT_UNKNOWN = (
    "Document du ministère : « {code} » n'existe pas sur la plateforme « {platform} ». "
    "Choisissez un des documents qu'elle collecte ({known})."
)
MSG_COUNTERPART_EMPTY = "Choisissez le document de la fédération."
MSG_SAME_PLATFORM = (
    "Document de la fédération : « {code} » est un document de la plateforme « {platform} », "
    "comme le document du ministère. Une paire relie un document du ministère à un document "
    "d'une plateforme fédérale : choisissez un document d'une fédération."
)
MSG_PLATFORM_UNKNOWN = (
    "Document de la fédération : « {platform} » n'est pas une plateforme fédérale. "
    "Choisissez un document de l'une d'elles ({known})."
)
MSG_COUNTERPART_UNKNOWN = (
    "Document de la fédération : « {code} » n'existe pas sur la plateforme « {platform} ». "
    "Choisissez un des documents qu'elle collecte ({known})."
)
MSG_DUPLICATE = (
    "La paire « {ministry} » ↔ « {code} » ({platform}) existe déjà : rien n'a été enregistré."
)
MSG_MINISTRY_ALREADY_PAIRED = (
    "Document du ministère : « {ministry} » a déjà pour pendant « {code} » sur la plateforme "
    "« {platform} ». Un document n'a qu'un pendant par plateforme : supprimez d'abord cette "
    "paire."
)
MSG_COUNTERPART_ALREADY_PAIRED = (
    "Document de la fédération : « {code} » ({platform}) a déjà pour pendant « {ministry} ». "
    "Un document n'a qu'un pendant au ministère : supprimez d'abord cette paire."
)
MSG_SAVED_MEANWHILE = (
    "Un collègue vient d'enregistrer une paire pour l'un de ces documents : rechargez la page "
    "pour la voir ; rien n'a été enregistré."
)


class PairRefused(Exception):
    """Nothing was saved; ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class PairView:
    """A pair as the screens show it (the federation's label read on its platform)."""

    pk: int
    ministry_code: str
    ministry_label: str
    platform: str
    platform_name: str
    document_code: str
    document_label: str | None  # None: no such document on that platform (any more)


def federation_codes() -> list[str]:
    return [spec.code for spec in PLATFORMS if spec.kind == "federation"]


def _pairs():
    return TroncCommunPair.objects.select_related("ministry_document")


def _on_ministry():
    """Where the pairs are kept; no schema switch (two more round trips) when already there:
    the dossier pages of the ministry ask for their document's pair."""
    return nullcontext() if connection.schema_name == MINISTRY else schema_context(MINISTRY)


# --- reading (any platform) -------------------------------------------------------------------


def federation_counterparts(ministry_document: str) -> dict[str, str]:
    """{federation platform: its document} paired with this ministry document."""
    with _on_ministry():
        return dict(
            TroncCommunPair.objects.filter(ministry_document__code=ministry_document).values_list(
                "platform", "document_code"
            )
        )


def ministry_counterpart(platform: str, document_code: str) -> str | None:
    """The ministry document paired with this document of a federation platform, or None."""
    with _on_ministry():
        return (
            TroncCommunPair.objects.filter(platform=platform, document_code=document_code)
            .values_list("ministry_document__code", flat=True)
            .first()
        )


def tc_pairs_list(*, platform: str | None = None) -> list[PairView]:
    """The pairs (those naming ``platform`` only, when given), with each side's label."""
    with _on_ministry():
        pairs = _pairs()
        if platform is not None:
            pairs = pairs.filter(platform=platform)
        pairs = list(pairs)
    labels: dict[str, dict[str, str]] = {}
    for code in sorted({pair.platform for pair in pairs}):
        labels[code] = _documents_of(code)
    return [
        PairView(
            pk=pair.pk,
            ministry_code=pair.ministry_document.code,
            ministry_label=pair.ministry_document.label,
            platform=pair.platform,
            platform_name=_platform_name(pair.platform),
            document_code=pair.document_code,
            document_label=labels.get(pair.platform, {}).get(pair.document_code),
        )
        for pair in pairs
    ]


def federation_documents() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(platform, its name, [(code, label)]) of each federation platform: what a pair may
    name on the federation side."""
    return [
        (code, _platform_name(code), list(_documents_of(code).items()))
        for code in federation_codes()
    ]


def _platform_name(code: str) -> str:
    try:
        return platform_spec(code).short_name
    except KeyError:
        return code


def _documents_of(platform: str) -> dict[str, str]:
    """{code: label} of the document types of one platform, read in its schema."""
    with schema_context(platform):
        return dict(DocumentType.objects.values_list("code", "label"))


# --- writing (the ministry's gestionnaires) ---------------------------------------------------


def _require_ministry_gestionnaire(user) -> None:
    # users are per schema: a gestionnaire signed in on the ministry platform is one of its own
    if connection.schema_name != MINISTRY or getattr(user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_NOT_MINISTRY_GESTIONNAIRE)


def may_edit_pairs(user) -> bool:
    try:
        _require_ministry_gestionnaire(user)
    except PermissionDenied:
        return False
    return True


def _journal(pair: TroncCommunPair) -> dict:
    return {
        "ministry_document": pair.ministry_document.code,
        "platform": pair.platform,
        "document": pair.document_code,
    }


def _clean(ministry_document: str, platform: str, document: str) -> tuple[DocumentType, str, str]:
    """The ministry's DocumentType, the federation platform and document, or PairRefused."""
    ministry_code = (ministry_document or "").strip().upper()
    platform = (platform or "").strip().lower()
    code = (document or "").strip().upper()
    if not ministry_code:
        raise PairRefused(MSG_MINISTRY_DOCUMENT_EMPTY, field="ministry_document")
    ministry = DocumentType.objects.filter(code=ministry_code).first()
    if ministry is None:
        known = ", ".join(DocumentType.objects.values_list("code", flat=True))
        raise PairRefused(
            MSG_MINISTRY_DOCUMENT_UNKNOWN.format(
                code=ministry_code[:40], platform=_platform_name(MINISTRY), known=known
            ),
            field="ministry_document",
        )
    if not code or not platform:
        raise PairRefused(MSG_COUNTERPART_EMPTY, field="counterpart")
    if platform == MINISTRY:
        raise PairRefused(
            MSG_SAME_PLATFORM.format(code=code[:40], platform=_platform_name(MINISTRY)),
            field="counterpart",
        )
    if platform not in federation_codes():
        raise PairRefused(
            MSG_PLATFORM_UNKNOWN.format(
                platform=platform[:20],
                known=", ".join(_platform_name(c) for c in federation_codes()),
            ),
            field="counterpart",
        )
    theirs = _documents_of(platform)
    if code not in theirs:
        raise PairRefused(
            MSG_COUNTERPART_UNKNOWN.format(
                code=code[:40], platform=_platform_name(platform), known=", ".join(theirs)
            ),
            field="counterpart",
        )
    return ministry, platform, code


@transaction.atomic
def tc_pair_create(
    *, ministry_document: str, platform: str, document: str, acting_user
) -> TroncCommunPair:
    """Pair a ministry document (by code) with a federation platform's document (by code)."""
    _require_ministry_gestionnaire(acting_user)
    ministry, platform, code = _clean(ministry_document, platform, document)
    name = _platform_name(platform)
    if _pairs().filter(ministry_document=ministry, platform=platform, document_code=code).exists():
        raise PairRefused(
            MSG_DUPLICATE.format(ministry=ministry.code, code=code, platform=name),
            field="counterpart",
        )
    other = _pairs().filter(ministry_document=ministry, platform=platform).first()
    if other is not None:
        raise PairRefused(
            MSG_MINISTRY_ALREADY_PAIRED.format(
                ministry=ministry.code, code=other.document_code, platform=name
            ),
            field="ministry_document",
        )
    other = _pairs().filter(platform=platform, document_code=code).first()
    if other is not None:
        raise PairRefused(
            MSG_COUNTERPART_ALREADY_PAIRED.format(
                code=code, platform=name, ministry=other.ministry_document.code
            ),
            field="counterpart",
        )
    try:
        with transaction.atomic():
            pair = TroncCommunPair.objects.create(
                ministry_document=ministry,
                platform=platform,
                document_code=code,
                created_by=acting_user,
            )
    except IntegrityError:  # a colleague saved one of these documents' pair meanwhile
        raise PairRefused(MSG_SAVED_MEANWHILE) from None
    log(instance=pair, action="harmonia.tc_pair_created", user=acting_user, data=_journal(pair))
    return pair


@transaction.atomic
def tc_pair_delete(*, pair: TroncCommunPair, acting_user) -> None:
    """Unpair: « Rapatrier » between those documents stops (consents given stay in their
    journal) and the federation's report no longer counts that ER."""
    _require_ministry_gestionnaire(acting_user)
    log(
        instance=pair,
        action="harmonia.tc_pair_deleted",
        user=acting_user,
        data=_journal(pair),
        deleted=True,
    )
    TroncCommunPair.objects.filter(pk=pair.pk).delete()


def tc_pairs_seed() -> int:
    """The pairs of a fresh install, in the current (ministry) schema, only while none exists
    so that the gestionnaires' edits are never undone; a pair whose ministry document is not
    collected here is left out. Returns the number created."""
    if TroncCommunPair.objects.exists():
        return 0
    documents = {d.code: d for d in DocumentType.objects.all()}
    created = TroncCommunPair.objects.bulk_create(
        TroncCommunPair(
            ministry_document=documents[ministry], platform=platform, document_code=code
        )
        for ministry, platform, code in DEFAULT_PAIRS
        if ministry in documents
    )
    return len(created)
