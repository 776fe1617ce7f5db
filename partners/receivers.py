"""The partners' receivers (connected in ``PartnersConfig.ready``)."""

from __future__ import annotations

from partners.services import partners_on_step_change


def on_step_change(*, change, **kwargs) -> None:
    """Automatic transmissions at the steps and sub-steps the rules name (inside the
    transition's transaction: the transmissions exist exactly when the step change does)."""
    partners_on_step_change(change)
