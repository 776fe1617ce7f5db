"""Bind platform accounts to what they act for (organism or partner)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.template import loader
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from wagtail.log_actions import log

from accounts.models import PLATFORM_ROLES, Role, User
from organisms.models import Membership, Organism, Partner
from tenants.links import absolute_url
from tenants.models import Platform
from tenants.services import GESTIONNAIRES_GROUP
from tenants.tasks import queue_email

MSG_TOO_MANY = (
    "L'organisme {organism} a déjà {limit} comptes utilisateurs, le maximum sur cette "
    "plateforme : désactivez un compte existant avant d'en créer un autre."
)
MSG_ROLE_NEEDS_ORGANISM = "Un compte « organisme » doit être rattaché à un organisme."
MSG_ROLE_NEEDS_PARTNER = "Un compte « partenaire » doit être rattaché à un partenaire."
MSG_NO_BINDING = "Seuls les comptes organisme et partenaire sont rattachés."
MSG_PARTNER_INACTIVE = (
    "Le partenaire {partner} est désactivé : réactivez-le avant de lui rattacher un compte."
)


def current_platform() -> Platform:
    """The platform of the connection's schema (``schema_context`` sets only a stand-in)."""
    tenant = connection.tenant
    if isinstance(tenant, Platform):
        return tenant
    return Platform.objects.get(schema_name=connection.schema_name)


class TooManyOrganismUsers(Exception):
    pass


class MembershipError(ValueError):
    pass


def membership_bind(
    *, user, organism: Organism | None = None, partner: Partner | None = None
) -> Membership:
    """Attach ``user`` to its organism or partner, enforcing the per-organism account limit."""
    if user.role == Role.ORGANISME and organism is None:
        raise MembershipError(MSG_ROLE_NEEDS_ORGANISM)
    if user.role == Role.PARTENAIRE and partner is None:
        raise MembershipError(MSG_ROLE_NEEDS_PARTNER)
    if user.role not in (Role.ORGANISME, Role.PARTENAIRE):
        raise MembershipError(MSG_NO_BINDING)
    if partner is not None and not partner.is_active and user.is_active:
        raise MembershipError(MSG_PARTNER_INACTIVE.format(partner=partner))
    with transaction.atomic():
        if organism is not None:
            # Lock the organism so two concurrent creations cannot both pass the check.
            Organism.objects.select_for_update().get(pk=organism.pk)
            limit = current_platform().user_limit_per_organism
            active = (
                Membership.objects.filter(organism=organism, user__is_active=True)
                .exclude(user=user)
                .count()
            )
            if user.is_active and active >= limit:
                raise TooManyOrganismUsers(MSG_TOO_MANY.format(organism=organism, limit=limit))
        membership, _ = Membership.objects.update_or_create(
            user=user, defaults={"organism": organism, "partner": partner}
        )
    return membership


MSG_USERNAME_TAKEN = "L'identifiant « {username} » est déjà utilisé sur cette plateforme."
MSG_EMAIL_TAKEN = "L'adresse {email} est déjà celle d'un compte de cette plateforme."
MSG_PLATFORM_ROLE = "Ce rôle n'existe pas sur une plateforme."


def platform_user_create(
    *,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    organism: Organism | None = None,
    partner: Partner | None = None,
    acting_user,
    request=None,
):
    """Create a platform account (gestionnaires only) with no password: the person receives a
    link to choose one. Limits and bindings are checked before anything is saved."""
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied("Seul un gestionnaire crée des comptes.")
    if role not in PLATFORM_ROLES:
        raise ValidationError({"role": MSG_PLATFORM_ROLE})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": MSG_USERNAME_TAKEN.format(username=username)})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": MSG_EMAIL_TAKEN.format(email=email)})
    with transaction.atomic():
        user = User(
            username=username, email=email, first_name=first_name, last_name=last_name, role=role
        )
        user.set_unusable_password()
        user.save()
        if role in (Role.ORGANISME, Role.PARTENAIRE):
            try:
                membership_bind(user=user, organism=organism, partner=partner)
            except (MembershipError, TooManyOrganismUsers) as exc:
                field = "organism" if role == Role.ORGANISME else "partner"
                raise ValidationError({field: str(exc)}) from exc
        if role == Role.GESTIONNAIRE:
            user.groups.add(Group.objects.get(name=GESTIONNAIRES_GROUP))
        _journal(user, "harmonia.account_created", acting_user, organism=organism, partner=partner)
    if request is not None:
        welcome_email_queue(user=user)
    return user


def welcome_email_queue(*, user) -> int:
    """Queue the e-mail whose single-use link lets a new account holder choose a password."""
    platform = current_platform()
    url = absolute_url(
        reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        ),
        platform=platform,
    )
    context = {"user": user, "url": url, "domain": urlsplit(url).netloc, "platform": platform}
    subject = loader.render_to_string("accounts/email/welcome_subject.txt", context).strip()
    body = loader.render_to_string("accounts/email/welcome.txt", context)
    return queue_email(subject=subject, body=body, to=[user.email])


def platform_user_set_active(*, user, active: bool, acting_user) -> None:
    """Suspend or restore an account; its holder is told by e-mail (CCTP 3.2.4: users whose
    account is suspended are informed without delay, and again when it is restored)."""
    if acting_user.role != Role.GESTIONNAIRE or user.pk == acting_user.pk:
        raise PermissionDenied("Action réservée aux gestionnaires, sur le compte d'un autre.")
    with transaction.atomic():
        if active and user.role == Role.ORGANISME:
            membership_bind(user=user, organism=user.membership.organism)  # re-checks the limit
        was_active = User.objects.filter(pk=user.pk).values_list("is_active", flat=True).get()
        user.is_active = active
        user.save(update_fields=["is_active"])
        if was_active != active:
            membership = getattr(user, "membership", None)
            _journal(
                user,
                "harmonia.account_activated" if active else "harmonia.account_deactivated",
                acting_user,
                organism=membership.organism if membership else None,
                partner=membership.partner if membership else None,
            )
            account_status_email_queue(user=user, active=active)


def account_status_email_queue(*, user, active: bool) -> int | None:
    """Queue the e-mail telling ``user`` their account was suspended or restored (none for
    an account without an address)."""
    if not user.email:
        return None
    platform = current_platform()
    context = {
        "user": user,
        "platform": platform,
        "active": active,
        "url": absolute_url(reverse("accounts:login"), platform=platform),
    }
    subject = loader.render_to_string("accounts/email/account_status_subject.txt", context)
    body = loader.render_to_string("accounts/email/account_status.txt", context)
    return queue_email(subject=subject.strip(), body=body, to=[user.email])


def _journal(user, action: str, acting_user, *, organism=None, partner=None) -> None:
    """One entry of the platform's administrative journal about an account: who acted, and
    the account's username, role and binding."""
    log(
        instance=user,
        action=action,
        user=acting_user,
        title=f"{user.username} ({user.get_role_display()})",
        data={
            "username": user.username,
            "role": user.role,
            "email": user.email,
            "organism": organism.siren if organism else None,
            "partner": partner.name if partner else None,
        },
    )
