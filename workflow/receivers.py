"""The workflow's receivers (connected in ``WorkflowConfig.ready``)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from forms_cms.models import DocumentType
from forms_cms.receivers import document_types_seed
from organisms.demo import DEMO_EXERCISE
from tenants.services import gestionnaires_grant
from workflow.actions import dossiers_derived_refresh_job
from workflow.models import Campaign, DeadlineRule, FiabilisationStep
from workflow.services.lifecycle import DEFAULT_SUBSTEPS, notify_step_change

__all__ = ["demo_campaign", "notify_step_change", "platform_seed", "refresh_derived"]


def refresh_derived(*, version, **kwargs) -> None:
    """A form version's controls changed (sent on commit): recount the failing blocking
    controls of its dossiers in the background (hundreds of dossiers may use it)."""
    dossiers_derived_refresh_job.defer(version_id=version.pk)


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: the default sub-steps of step 4 (only while the
    platform has none: each platform's gestionnaires adapt them) and the gestionnaires' rights
    on the sub-steps (admin) and on the journalled campaigns and purges."""
    if spec and not FiabilisationStep.objects.exists():
        FiabilisationStep.objects.bulk_create(
            FiabilisationStep(code=code, label=label, position=i)
            for i, (code, label) in enumerate(DEFAULT_SUBSTEPS)
        )
    if spec and spec.deadlines and not DeadlineRule.objects.exists():
        document_types_seed(spec)  # idempotent: the rules name them
        deadline_rules_seed(spec.deadlines)
    gestionnaires_grant(
        "workflow",
        [
            "view_fiabilisationstep", "add_fiabilisationstep",
            "change_fiabilisationstep", "delete_fiabilisationstep",
            "view_campaign", "change_campaign", "view_purgelog",
        ],
    )  # fmt: skip


def deadline_rules_seed(rules) -> None:
    """The platform's default deadline rules (``PlatformSpec.deadlines``), for the document
    types it has."""
    documents = {d.code: d for d in DocumentType.objects.all()}
    DeadlineRule.objects.bulk_create(
        DeadlineRule(
            document_type=documents[code],
            family=family,
            accounting=accounting,
            kind=kind,
            day=day,
            days=days,
            capped=capped,
        )
        for code, family, accounting, kind, day, days, capped in rules
        if code in documents
    )


def demo_campaign(*, platform, users, **kwargs) -> None:
    """``organisms.signals.demo_loaded`` on a platform: the demo's open campaign, collecting
    every document type, opened by the demo gestionnaire (once)."""
    if platform is None or Campaign.objects.filter(exercise=DEMO_EXERCISE).exists():
        return
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        exercise=DEMO_EXERCISE,
        opening_date=today - datetime.timedelta(days=30),
        deadline=today + datetime.timedelta(days=90),
        opened_by=users["gestionnaire"],
    )
    campaign.document_types.set(DocumentType.objects.all())
