"""The partners' receivers (connected in ``PartnersConfig.ready``)."""

from __future__ import annotations

from forms_cms.receivers import document_types_seed
from partners.services import partners_defaults, partners_on_step_change
from tenants.services import gestionnaires_grant


def on_step_change(*, change, **kwargs) -> None:
    """Automatic transmissions at the steps and sub-steps the rules name (inside the
    transition's transaction: the transmissions exist exactly when the step change does)."""
    partners_on_step_change(change)


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the ministry platform's default partners and
    rules, and the gestionnaires' read right on the journalled partner rules."""
    if spec and spec.kind == "ministry":
        # the default rules name a document type: seed them first, whatever order the
        # receivers run in (idempotent)
        document_types_seed(spec)
        partners_defaults()  # idempotent: adds rules only while the platform has none
    gestionnaires_grant("partners", ["view_partnerrule"])
