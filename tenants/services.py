"""Create or update the platforms so that the database matches ``tenants.platforms``."""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django_tenants.utils import schema_context

from tenants.models import Domain, Platform
from tenants.platforms import PLATFORMS, PUBLIC_SCHEMA, TEMPLATE_SCHEMA, PlatformSpec

logger = logging.getLogger(__name__)

GESTIONNAIRES_GROUP = "Gestionnaires"


def _ensure_domain(platform: Platform, host: str) -> None:
    Domain.objects.filter(tenant=platform, is_primary=True).exclude(domain=host).update(
        is_primary=False
    )
    Domain.objects.update_or_create(domain=host, defaults={"tenant": platform, "is_primary": True})


def _ensure_platform(schema_name: str, **fields) -> Platform:
    platform = Platform.objects.filter(schema_name=schema_name).first()
    if platform is None:
        logger.info("Creating schema %s", schema_name)
        platform = Platform(schema_name=schema_name, **fields)
        platform.save(verbosity=0)  # creates the schema: clone of the template, or migrate
    else:
        changed = [k for k, v in fields.items() if getattr(platform, k) != v]
        for key in changed:
            setattr(platform, key, fields[key])
        if changed:
            platform.save(update_fields=changed)
    return platform


def _prepare_schema(platform: Platform, spec: PlatformSpec | None) -> None:
    """Inside one platform schema: Wagtail home and site, document types, groups."""
    from wagtail.models import GroupPagePermission, Page, Site

    from faq_wiki.models import PlatformHomePage
    from forms_cms.models import DocumentType
    from partners.services import partners_defaults
    from workflow.models import FiabilisationStep
    from workflow.services.lifecycle import DEFAULT_SUBSTEPS

    with schema_context(platform.schema_name), transaction.atomic():
        title = spec.name if spec else "Harmonia"
        root = Page.get_first_root_node()
        home = PlatformHomePage.objects.first()
        if home is None:
            home = root.add_child(instance=PlatformHomePage(title=title, slug="accueil"))
        elif home.title != title:
            home.title = title
            home.save_revision().publish()
        site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
        host = platform.get_primary_domain().domain if spec else "localhost"
        site.hostname, site.port, site.root_page, site.site_name = host, 80, home, title
        site.save()
        # Wagtail's own placeholder page is replaced by the platform home.
        Page.objects.filter(depth=2).exclude(pk=home.pk).delete()

        for position, (code, label) in enumerate(spec.document_types if spec else ()):
            DocumentType.objects.update_or_create(
                code=code, defaults={"label": label, "position": position}
            )
        if spec and not FiabilisationStep.objects.exists():
            # the default sub-steps of step 4; each platform's gestionnaires adapt them
            FiabilisationStep.objects.bulk_create(
                FiabilisationStep(code=code, label=label, position=i)
                for i, (code, label) in enumerate(DEFAULT_SUBSTEPS)
            )
        if spec and spec.kind == "ministry":
            partners_defaults()  # idempotent: adds rules only while the platform has none

        group, _ = Group.objects.get_or_create(name=GESTIONNAIRES_GROUP)
        group.permissions.add(
            Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
        )
        # the forms' managed objects edited in the admin (forms_cms/wagtail_hooks.py)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=("forms_cms", "workflow"),
                codename__in=(
                    "view_field", "change_field",
                    "view_control", "add_control", "change_control", "delete_control",
                    "view_aggregate", "add_aggregate", "change_aggregate", "delete_aggregate",
                    "view_fiabilisationstep", "add_fiabilisationstep",
                    "change_fiabilisationstep", "delete_fiabilisationstep",
                ),
            )
        )  # fmt: skip
        # the administrative journal (/cms/reports/site-history/) shows a user only the entries
        # about object types they hold a permission on: read rights on the journalled ones
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=(
                    "accounts", "declarations", "forms_cms", "organisms", "partners", "workflow",
                ),
                codename__in=(
                    "view_user", "view_apitoken", "view_formversion", "view_organism",
                    "view_registryimport", "view_partnerrule", "view_campaign", "view_purgelog",
                ),
            )
        )  # fmt: skip
        for codename in ("add_page", "change_page", "publish_page"):
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=home,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )


def platforms_sync(*, base_domain: str) -> list[Platform]:
    """Idempotent: the public host, the template schema and the five platforms."""
    public = _ensure_platform(
        PUBLIC_SCHEMA, code="public", name="Harmonia", short_name="Harmonia", kind="public"
    )
    _ensure_domain(public, base_domain)
    template = _ensure_platform(
        TEMPLATE_SCHEMA,
        code="template",
        name="Modèle des plateformes",
        short_name="Modèle",
        kind="template",
    )
    _prepare_schema(template, None)
    platforms = []
    for position, spec in enumerate(PLATFORMS, start=1):
        platform = _ensure_platform(
            spec.code,
            code=spec.code,
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            family=spec.family,
            collects=spec.collects,
            position=position,
        )
        _ensure_domain(platform, f"{spec.code}.{base_domain}")
        _prepare_schema(platform, spec)
        platforms.append(platform)
    return platforms
