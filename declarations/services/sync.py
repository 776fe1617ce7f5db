"""« Rapatrier » : pull the tronc commun fields of the same organism's dossier on the other
platform (a ministry document ↔ its federation's document, as the ministry's gestionnaires
paired them: declarations.services.tc_pairs).

This is one of the two bridges between platforms, and a security boundary: it reads only the
counterpart dossier of the same SIREN and exercise, only when the organism has allowed the
pulling account on the source platform (declarations.services.pairing), only the fields marked
common on both sides, and writes only into the requesting organism's own dossier. Every pull,
made or refused, is journaled on both platforms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django_tenants.utils import schema_context
from harmonia.french import counted

from declarations.models import TroncCommunEvent
from declarations.services.dossiers import SaveResult, dossier_values_apply, table_current_rows
from declarations.services.pairing import grant_label
from declarations.services.tronc_commun import (
    MINISTRY,
    MSG_NO_COUNTERPART_PLATFORM,
    MSG_NOT_COMMON,
    NothingToSync,
    common_field_names,
    common_table_names,
    counterpart_candidates,
    counterpart_document_label,
    counterpart_of,
    platform_short_name,
    require_tc_owner,
    tc_journal,
)
from forms_cms.fields import version_fields, version_tables
from forms_cms.formats import format_value
from forms_cms.models import Field
from workflow.models import ValueChange

__all__ = [
    "MINISTRY",
    "MSG_NOT_COMMON",
    "MSG_NOT_PAIRED",
    "MSG_NO_COUNTERPART_PLATFORM",
    "NothingToSync",
    "PullRefused",
    "SyncLine",
    "SyncPreview",
    "counterpart_of",
    "dossier_sync",
    "sync_preview",
]

# The same words whether the source dossier exists or not: an account without consent learns
# nothing about the other platform.
MSG_NOT_PAIRED = (
    "Votre compte n'est pas autorisé à rapatrier le tronc commun de votre organisme depuis la "
    "plateforme « {platform} » : rien n'a été lu. Pour l'autoriser, sur la plateforme "
    "« {platform} », ouvrez le dossier « {document} » de l'exercice {exercise}, choisissez "
    "« {grant} » et nommez votre compte {email}."
)
REFUSED_DETAIL = "aucune autorisation active pour ce compte : rien n'a été lu"


class PullRefused(NothingToSync):
    """The organism has not allowed this account to pull (or has withdrawn it)."""


def _is_empty(value) -> bool:
    return value is None or value == "" or value == []


@dataclass
class SyncLine:
    name: str
    label: str
    current: object
    incoming: object
    current_text: str
    incoming_text: str

    @property
    def erasing(self) -> bool:
        """Taking it would replace a value typed here with nothing."""
        return _is_empty(self.incoming) and not _is_empty(self.current)


@dataclass
class SyncPreview:
    platform: str  # the counterpart platform's name
    document: str
    lines: list[SyncLine] = field(default_factory=list)  # only fields whose value differs
    same: int = 0  # common fields already equal

    @property
    def offered(self) -> list[SyncLine]:
        """Lines taken by default: they bring a value."""
        return [line for line in self.lines if not line.erasing]

    @property
    def erasing(self) -> list[SyncLine]:
        """Lines that would erase a value here: taken only when named one by one."""
        return [line for line in self.lines if line.erasing]


@dataclass
class _Pulled:
    preview: SyncPreview
    source_platform: str
    source_dossier_id: int


def _pull(*, dossier, acting_user) -> _Pulled:
    """Read the counterpart's common values, if the organism allowed this account there."""
    require_tc_owner(dossier, acting_user)
    here_fields = version_fields(dossier.form_version)
    common_here = common_field_names(dossier.form_version)
    tables_here = common_table_names(dossier.form_version)
    if not common_here and not tables_here:
        raise NothingToSync(MSG_NOT_COMMON)
    code, document = counterpart_of(dossier)
    here = connection.schema_name
    siren, exercise = dossier.organism.siren, dossier.campaign.exercise
    platform_name = platform_short_name(code)
    with schema_context(code):
        candidates = counterpart_candidates(document=document, siren=siren, exercise=exercise)
        counterpart = candidates.filter(
            tc_pairings__platform=here,
            tc_pairings__account_email__iexact=acting_user.email,
            tc_pairings__revoked_at__isnull=True,
        ).first()
        if counterpart is None:
            # only whether a source dossier exists, to journal the attempt there too
            source_id = candidates.values_list("pk", flat=True).first()
        else:
            incoming = {}
            theirs = Field.objects.filter(version=counterpart.form_version, common=True)
            for name, kind in theirs.values_list("name", "kind"):
                if name not in common_here:
                    continue
                source = counterpart.computed if kind == Field.Kind.COMPUTED else counterpart.values
                incoming[name] = source.get(name)
            incoming_tables = {
                name: table_current_rows(counterpart, name)
                for name in common_table_names(counterpart.form_version) & tables_here
            }
            document_label = counterpart.document_type.label
    if counterpart is None:
        tc_journal(
            kind=TroncCommunEvent.Kind.REFUSED,
            dossier=dossier,
            other_platform=code,
            other_dossier_id=source_id,
            acting_user=acting_user,
            detail=REFUSED_DETAIL,
        )
        raise PullRefused(
            MSG_NOT_PAIRED.format(
                platform=platform_name,
                document=counterpart_document_label(code, document),
                exercise=exercise,
                grant=grant_label(here),
                email=acting_user.email,
            )
        )
    preview = SyncPreview(platform=platform_name, document=document_label)
    for name in sorted(incoming):
        info = here_fields.get(name)
        if info is None or info.computed:
            continue  # computed here: it follows from the fields it depends on
        value = incoming[name]
        if isinstance(value, dict):  # an error value on the other side carries nothing
            continue
        current = dossier.values.get(name)
        if current == value or (_is_empty(current) and _is_empty(value)):
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
    _table_lines(dossier, incoming_tables, preview)
    return _Pulled(preview=preview, source_platform=code, source_dossier_id=counterpart.pk)


def _table_lines(dossier, incoming: dict[str, list[dict]], preview: SyncPreview) -> None:
    """A tronc commun table is taken whole: its rows replace the rows here (the columns this
    form has as inputs, by name)."""
    tables = version_tables(dossier.form_version)
    for name in sorted(incoming):
        meta = tables[name]
        columns = {c.name for c in meta.inputs}
        rows = [{k: x for k, x in row.items() if k in columns} for row in incoming[name]]
        current = table_current_rows(dossier, name)
        if rows == current:
            preview.same += 1
            continue
        preview.lines.append(
            SyncLine(
                name=name,
                label=f"Tableau « {name} »",
                current=current,
                incoming=rows,
                current_text=_rows_text(current),
                incoming_text=_rows_text(rows),
            )
        )


def _rows_text(rows: list[dict]) -> str:
    return counted(len(rows), "ligne", "lignes") if rows else "vide"


def _journal_pull(*, pulled: _Pulled, dossier, acting_user, detail: str) -> None:
    tc_journal(
        kind=TroncCommunEvent.Kind.PULLED,
        dossier=dossier,
        other_platform=pulled.source_platform,
        other_dossier_id=pulled.source_dossier_id,
        acting_user=acting_user,
        detail=detail,
    )


def sync_preview(*, dossier, acting_user) -> SyncPreview:
    """What « Rapatrier » would change (nothing is written but the journal)."""
    pulled = _pull(dossier=dossier, acting_user=acting_user)
    preview = pulled.preview
    _journal_pull(
        pulled=pulled,
        dossier=dossier,
        acting_user=acting_user,
        detail=(
            f"aperçu : {counted(len(preview.lines), 'champ différent', 'champs différents')}, "
            f"dont {counted(len(preview.erasing), 'vide', 'vides')} sur la plateforme source"
        ),
    )
    return preview


def dossier_sync(
    *, dossier, acting_user, names: list[str] | None = None, erase: list[str] = ()
) -> SaveResult:
    """Apply the preview, recorded as a synchronisation. ``names``: the lines bringing a value
    that the person kept ticked (all of them when None); ``erase``: the lines that would erase
    a typed value and that the person ticked one by one. The two are read against the preview
    made now: a line that became erasing since the page was shown (its value emptied on the
    other platform meanwhile) is not applied unless it is in ``erase``."""
    pulled = _pull(dossier=dossier, acting_user=acting_user)
    preview = pulled.preview
    wanted = None if names is None else set(names)
    to_erase = set(erase)
    lines = [line for line in preview.offered if wanted is None or line.name in wanted]
    lines += [line for line in preview.erasing if line.name in to_erase]
    try:
        result = dossier_values_apply(
            dossier=dossier,
            values={line.name: line.incoming for line in lines},
            acting_user=acting_user,
            source=ValueChange.Source.SYNCHRONISATION,
        )
    except Exception:
        _journal_pull(
            pulled=pulled,
            dossier=dossier,
            acting_user=acting_user,
            detail="lu pour rapatriement ; rien n'a été appliqué",
        )
        raise
    erased = sum(1 for value in result.saved.values() if _is_empty(value))
    _journal_pull(
        pulled=pulled,
        dossier=dossier,
        acting_user=acting_user,
        detail=(
            f"{counted(len(result.saved), 'valeur rapatriée', 'valeurs rapatriées')}, "
            f"dont {counted(erased, 'effacée', 'effacées')}"
        ),
    )
    return result
