"""The forms' receivers (connected in ``FormsCmsConfig.ready``)."""

from __future__ import annotations

from django.conf import settings

from forms_cms.models import DocumentType, SecondOpinion
from forms_cms.tasks import version_second_opinion
from tenants.platforms import PlatformSpec
from tenants.services import gestionnaires_grant


def document_types_seed(spec: PlatformSpec | None) -> None:
    """The document types the platform collects, in the current schema (idempotent: other
    apps' seeds that need them call it first)."""
    filers = dict(spec.filers) if spec else {}
    for position, (code, label) in enumerate(spec.document_types if spec else ()):
        DocumentType.objects.update_or_create(
            code=code,
            defaults={"label": label, "position": position},
            # who files it is the gestionnaires' to change afterwards: seeded once
            create_defaults={
                "label": label,
                "position": position,
                "families": list(filers.get(code, ())),
            },
        )


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: document types and the gestionnaires' rights."""
    document_types_seed(spec)
    # the forms' managed objects shown in the admin (forms_cms/wagtail_hooks.py), and the form
    # versions the administrative journal is about
    gestionnaires_grant(
        "forms_cms",
        [
            "view_field", "change_field",
            "view_control", "add_control", "change_control", "delete_control",
            "view_aggregate", "add_aggregate", "change_aggregate", "delete_aggregate",
            "view_formversion",
        ],
    )  # fmt: skip


def second_opinion_queue(*, version, **kwargs) -> None:
    """``forms_cms.signals.version_uploaded`` (inside the upload's transaction): record the
    pending second opinion and queue its job, both stored only if the upload commits."""
    if not settings.HARMONIA_SECOND_OPINION:
        return
    SecondOpinion.objects.create(version=version)
    version_second_opinion.defer(version_id=version.pk)
