"""Create or update the platforms so that the database matches ``tenants.platforms``."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django_tenants.utils import schema_context

from tenants.models import Domain, Platform
from tenants.platforms import PLATFORMS, PUBLIC_SCHEMA, TEMPLATE_SCHEMA, PlatformSpec
from tenants.signals import platform_prepared

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


def gestionnaires_grant(app_label: str, codenames: Iterable[str]) -> None:
    """Give the gestionnaires' group these permissions of ``app_label``, in the current schema.

    For ``platform_prepared`` receivers: each app grants the rights on its own models (those
    its admin screens edit, those its journal entries are about)."""
    Group.objects.get(name=GESTIONNAIRES_GROUP).permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )


def _prepare_schema(platform: Platform, spec: PlatformSpec | None) -> None:
    """Inside one platform schema, in one transaction: the gestionnaires' group and its Wagtail
    rights, around ``platform_prepared``, on which each app seeds its own data (home page and
    site, document types, sub-steps, partners' defaults, rights on its models)."""
    from wagtail.models import GroupPagePermission, Site

    with schema_context(platform.schema_name), transaction.atomic():
        group, _ = Group.objects.get_or_create(name=GESTIONNAIRES_GROUP)
        group.permissions.add(
            Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
        )
        # the administrative journal (/cms/reports/site-history/) shows a user only the entries
        # about object types they hold a permission on; accounts are journalled (created,
        # deactivated…): read rights on the user model (the other apps grant theirs)
        user_model = get_user_model()
        gestionnaires_grant(user_model._meta.app_label, [f"view_{user_model._meta.model_name}"])

        platform_prepared.send(sender=Platform, platform=platform, spec=spec)

        # the pages under the site's root (the platform home, set by its receiver)
        home = Site.objects.get(is_default_site=True).root_page
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
