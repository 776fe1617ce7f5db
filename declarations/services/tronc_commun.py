"""What the two ends of the tronc-commun bridge share: which platform and document are a
dossier's counterpart, who may act on a dossier's side of the bridge, and the journal kept on
both platforms.

A ministry document and a federation's document share the fields marked common (`TC_`) when
the ministry's gestionnaires paired them (``declarations.services.tc_pairs``: ER sociaux ↔
QDIS OPH, ESH, COOP and ER SEM ↔ QDIS SEM as seeded). Either side may be the source: the
organism consents on the source platform (declarations.services.pairing) and the other
platform pulls (declarations.services.sync).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django_tenants.utils import schema_context

from declarations.models import TroncCommunEvent
from declarations.services.tc_pairs import (
    MINISTRY,
    federation_counterparts,
    ministry_counterpart,
)
from forms_cms.models import Field
from tenants.platforms import PLATFORMS, platform_spec
from workflow.models import Dossier
from workflow.policy import DossierPolicy

MSG_NO_COUNTERPART_PLATFORM = (
    "Les organismes de la famille {family} n'ont pas de plateforme fédérale : il n'y a pas de "
    "tronc commun à partager."
)
MSG_NOT_COMMON = "Ce formulaire n'a pas de champ du tronc commun."
MSG_NOT_PAIRED_WITH_FEDERATION = (
    "Le document « {document} » ne partage pas de tronc commun avec la plateforme "
    "« {platform} » de votre organisme."
)


class NothingToSync(Exception):
    """This dossier has no counterpart on another platform, or no common field."""


def require_tc_owner(dossier, acting_user) -> None:
    """Only the dossier's own organisme users act on its side of the bridge."""
    DossierPolicy(acting_user, dossier).require_owner()


def is_tc_owner(dossier, user) -> bool:
    return DossierPolicy(user, dossier).is_owner


def platform_short_name(code: str) -> str:
    return platform_spec(code).short_name


def _federation_for(organism) -> str | None:
    """The organism's federation platform: the one named on its registry line (ministry
    platform), else the one gathering its family."""
    if getattr(organism, "federation", ""):
        return organism.federation
    for spec in PLATFORMS:
        if spec.kind == "federation" and spec.family == organism.family:
            return spec.code
    return None


def counterpart_of(dossier) -> tuple[str, str]:
    """(platform code, document type code) of the dossier's counterpart, from the configured
    pairs, or raise NothingToSync."""
    here = connection.schema_name
    code = dossier.document_type.code
    if here == MINISTRY:
        counterparts = federation_counterparts(code)
        if not counterparts:
            raise NothingToSync(MSG_NOT_COMMON)
        platform = _federation_for(dossier.organism)
        if platform is None:
            raise NothingToSync(MSG_NO_COUNTERPART_PLATFORM.format(family=dossier.organism.family))
        if platform not in counterparts:
            raise NothingToSync(
                MSG_NOT_PAIRED_WITH_FEDERATION.format(
                    document=dossier.document_type.label, platform=platform_short_name(platform)
                )
            )
        return platform, counterparts[platform]
    ministry = ministry_counterpart(here, code)
    if ministry is None:
        raise NothingToSync(MSG_NOT_COMMON)
    return MINISTRY, ministry


def counterpart_document_label(code: str, document: str) -> str:
    """The counterpart document's label, from the platforms' own list (no query)."""
    for type_code, label in platform_spec(code).document_types:
        if type_code == document:
            return label
    return document


def common_field_names(version) -> set[str]:
    """The version's single-cell tronc commun fields."""
    common = Field.objects.filter(version=version, common=True, table="")
    return set(common.values_list("name", flat=True))


def common_table_names(version) -> set[str]:
    """The version's tronc commun tables (``TC_…``): synchronised whole."""
    common = Field.objects.filter(version=version, common=True).exclude(table="")
    return set(common.values_list("table", flat=True))


def counterpart_candidates(*, document: str, siren: str, exercise: int) -> QuerySet:
    """The same organism's dossiers of that exercise and document, in the current schema
    (call it inside ``schema_context`` of the counterpart platform)."""
    return Dossier.objects.select_related("form_version", "document_type").filter(
        organism__siren=siren, campaign__exercise=exercise, document_type__code=document
    )


def counterpart_dossier_id(dossier) -> tuple[str, int | None]:
    """(counterpart platform, id of the counterpart dossier there or None)."""
    code, document = counterpart_of(dossier)
    with schema_context(code):
        found = (
            counterpart_candidates(
                document=document,
                siren=dossier.organism.siren,
                exercise=dossier.campaign.exercise,
            )
            .values_list("pk", flat=True)
            .first()
        )
    return code, found


def tc_journal(
    *,
    kind: str,
    dossier,
    other_platform: str,
    other_dossier_id: int | None,
    acting_user,
    account_email: str = "",
    detail: str = "",
    other_detail: str | None = None,
) -> None:
    """One journal row on this platform and, when the other platform has the counterpart
    dossier, one there.

    On each side ``account_email`` names the account of the *other* platform concerned and
    ``acting_user`` the local person who acted: the users tables are per schema, so the row
    written on the other platform names the person by e-mail and links no user."""
    here = connection.schema_name
    TroncCommunEvent.objects.create(
        dossier=dossier,
        kind=kind,
        other_platform=other_platform,
        account_email=account_email,
        detail=detail[:255],
        acting_user=acting_user,
    )
    if other_dossier_id is None:
        return
    with schema_context(other_platform):
        TroncCommunEvent.objects.create(
            dossier_id=other_dossier_id,
            kind=kind,
            other_platform=here,
            account_email=acting_user.email,
            detail=(detail if other_detail is None else other_detail)[:255],
            acting_user=None,
        )
