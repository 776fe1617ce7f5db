"""The workflow's receivers (connected in ``WorkflowConfig.ready``)."""

from __future__ import annotations

from workflow.actions import dossiers_derived_refresh_job
from workflow.services.lifecycle import notify_step_change

__all__ = ["notify_step_change", "refresh_derived"]


def refresh_derived(*, version, **kwargs) -> None:
    """A form version's controls changed (sent on commit): recount the failing blocking
    controls of its dossiers in the background (hundreds of dossiers may use it)."""
    dossiers_derived_refresh_job.defer(version_id=version.pk)
