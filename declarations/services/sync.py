"""« Rapatrier » : pull the tronc commun fields of the same organism's dossier on the other
platform (ER on the ministry platform ↔ QDIS on the organism's federation).

This is one of the two bridges between platforms, and a security boundary: it reads only the
counterpart dossier of the same SIREN and exercise, only the fields marked common on both
sides, and writes only into the requesting organism's own dossier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django_tenants.utils import schema_context

from declarations.fields import version_fields
from declarations.formats import format_value
from declarations.services.dossiers import SaveResult, _check_owner, dossier_values_apply
from forms_cms.models import Field
from tenants.platforms import PLATFORMS
from workflow.models import Dossier, ValueChange

MINISTRY = "dhup"
# the ministry's document whose common fields each federation's QDIS shares
MINISTRY_DOCUMENT = "ER_SOCIAUX"

MSG_NO_COUNTERPART_PLATFORM = (
    "Les organismes de la famille {family} n'ont pas de plateforme fédérale : il n'y a rien à "
    "rapatrier."
)
MSG_NO_COUNTERPART = (
    "Aucun dossier {document} de l'exercice {exercise} n'existe pour votre organisme (SIREN "
    "{siren}) sur la plateforme « {platform} » : rien à rapatrier."
)
MSG_NOT_COMMON = "Ce formulaire n'a pas de champ du tronc commun."


class NothingToSync(Exception):
    pass


@dataclass
class SyncLine:
    name: str
    label: str
    current: object
    incoming: object
    current_text: str
    incoming_text: str


@dataclass
class SyncPreview:
    platform: str  # the counterpart platform's name
    document: str
    lines: list[SyncLine] = field(default_factory=list)  # only fields whose value differs
    same: int = 0  # common fields already equal


def _federation_for(family: str) -> str | None:
    for spec in PLATFORMS:
        if spec.kind == "federation" and spec.family == family:
            return spec.code
    return None


def counterpart_of(dossier) -> tuple[str, str | None]:
    """(platform code, document type code or None for "the QDIS") of the dossier's
    counterpart, or raise NothingToSync."""
    here = connection.schema_name
    if here == MINISTRY:
        if dossier.document_type.code != MINISTRY_DOCUMENT:
            raise NothingToSync(MSG_NOT_COMMON)
        code = _federation_for(dossier.organism.family)
        if code is None:
            raise NothingToSync(MSG_NO_COUNTERPART_PLATFORM.format(family=dossier.organism.family))
        return code, None
    if not dossier.document_type.code.startswith("QDIS"):
        raise NothingToSync(MSG_NOT_COMMON)
    return MINISTRY, MINISTRY_DOCUMENT


def _common_fields(version) -> dict[str, Field]:
    return {f.name: f for f in Field.objects.filter(version=version, common=True)}


def sync_preview(*, dossier, acting_user) -> SyncPreview:
    """What « Rapatrier » would change (nothing is written)."""
    _check_owner(dossier, acting_user)
    here_fields = version_fields(dossier.form_version)
    common_here = {n for n, f in _common_fields(dossier.form_version).items()}
    if not common_here:
        raise NothingToSync(MSG_NOT_COMMON)
    code, document = counterpart_of(dossier)
    siren, exercise = dossier.organism.siren, dossier.campaign.exercise
    platform_name = next(spec.short_name for spec in PLATFORMS if spec.code == code)
    with schema_context(code):
        candidates = Dossier.objects.select_related("form_version", "document_type").filter(
            organism__siren=siren, campaign__exercise=exercise
        )
        if document:
            candidates = candidates.filter(document_type__code=document)
        else:
            candidates = candidates.filter(document_type__code__startswith="QDIS")
        counterpart = candidates.first()
        if counterpart is None:
            raise NothingToSync(
                MSG_NO_COUNTERPART.format(
                    document=document or "QDIS",
                    exercise=exercise,
                    siren=siren,
                    platform=platform_name,
                )
            )
        theirs = _common_fields(counterpart.form_version)
        incoming = {}
        for name, their_field in theirs.items():
            if name not in common_here:
                continue
            source = counterpart.computed if their_field.kind == "computed" else counterpart.values
            incoming[name] = source.get(name)
        document_label = counterpart.document_type.label
    preview = SyncPreview(platform=platform_name, document=document_label)
    for name in sorted(incoming):
        info = here_fields.get(name)
        if info is None or info.computed:
            continue  # computed here: it follows from the fields it depends on
        value = incoming[name]
        if isinstance(value, dict):  # an error value on the other side carries nothing
            continue
        current = dossier.values.get(name)
        if current == value:
            preview.same += 1
            continue
        preview.lines.append(
            SyncLine(
                name=name,
                label=info.label,
                current=current,
                incoming=value,
                current_text=format_value(current, info.data_type, info.number_format) or "vide",
                incoming_text=format_value(value, info.data_type, info.number_format) or "vide",
            )
        )
    return preview


def dossier_sync(*, dossier, acting_user, names: list[str] | None = None) -> SaveResult:
    """Apply the preview (all its lines, or the ``names`` confirmed), recorded as a
    synchronisation."""
    preview = sync_preview(dossier=dossier, acting_user=acting_user)
    chosen = set(names) if names is not None else None
    values = {
        line.name: line.incoming for line in preview.lines if chosen is None or line.name in chosen
    }
    return dossier_values_apply(
        dossier=dossier,
        values=values,
        acting_user=acting_user,
        source=ValueChange.Source.SYNCHRONISATION,
    )
