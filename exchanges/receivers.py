"""The exchange space's receivers (connected in ``ExchangesConfig.ready``)."""

from __future__ import annotations

from exchanges.models import Attachment


def count_for_purge(*, dossier_ids, **kwargs) -> dict[str, int]:
    """``workflow.signals.dossiers_purge_counted``: the attachments that go with the dossiers
    (they are deleted with them, through their messages)."""
    return {"attachments": Attachment.objects.filter(message__dossier_id__in=dossier_ids).count()}
