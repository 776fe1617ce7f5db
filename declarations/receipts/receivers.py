"""The receipts' receiver of the write gate (connected in ``DeclarationsConfig.ready``)."""

from __future__ import annotations

from declarations.receipts.selectors import TRANSMISSIONS
from declarations.receipts.services import receipt_send


def send_receipt(*, dossier, change, **kwargs) -> None:
    """A transmission (first, or after a hand-back) was recorded: the organism's users get
    their accusé de réception (queued in the transmission's transaction)."""
    if change.transition in TRANSMISSIONS:
        receipt_send(change=change, dossier=dossier)
