"""Subscriptions: subscribing, recording what happened, the batched e-mail, unsubscribing.

Events (a Wagtail page published, a form version uploaded) add a ``PendingNotification``
per subscriber — one line per subscriber and subject, however many times it changed — and
queue one digest job per subscriber. A queueing lock keeps a single waiting job per
subscriber, and the job itself is idempotent: it sends one e-mail with everything pending
for that person and deletes it, so a second run finds nothing and sends nothing.

Who is notified of what:

- a page published or republished: "wiki" subscribers for any page of the platform's tree
  (the home and everything under it), "section" subscribers for the chosen page and its
  descendants;
- a new form version (with its XSD and specification file): "editors" subscribers only.
  The wiki scope covers the content written in the CMS; the form versions are data, listed
  by the editors' section, and a person who wants them subscribes to the editors' updates.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import PLATFORM_ROLES, User
from faq_wiki.models import PlatformHomePage, user_may_read
from organisms.services.memberships import current_platform
from subscriptions.models import PendingNotification, Scope, Subscription
from tenants.jobs import SCHEMA_ARG
from tenants.links import absolute_url
from tenants.models import Platform

UNSUBSCRIBE_SALT = "subscriptions.unsubscribe"
# a digest waits this long for other events before being sent (a batch of publications
# spread over a few requests still makes one e-mail)
DIGEST_DELAY_SECONDS = getattr(settings, "HARMONIA_SUBSCRIPTION_DELAY_SECONDS", 60)

MSG_SECTION_REQUIRED = "Choisissez la rubrique à suivre."
MSG_SECTION_OUTSIDE = "Cette page n'appartient pas au contenu de la plateforme."
MSG_ALREADY = "Vous êtes déjà abonné(e) : {subscription}."
MSG_ROLE = "Votre rôle ne permet pas de s'abonner sur cette plateforme."


# --- subscribing -----------------------------------------------------------------------------


def platform_home():
    """The root of the platform's content (``PlatformHomePage``), or None."""

    return PlatformHomePage.objects.order_by("path").first()


def section_choices(user=None):
    """Pages a person may follow as a section: the home's descendants (not the home itself:
    following the home is following the whole wiki) that ``user`` may read, if given."""
    from wagtail.models import Page

    home = platform_home()
    if home is None:
        return Page.objects.none()
    pages = Page.objects.descendant_of(home).order_by("path")
    if user is None:
        return pages
    readable = {p.path: readable_by(p, user) for p in pages.specific()}
    # a page is readable when it and every ancestor under the home are
    allowed = [
        path
        for path in readable
        if all(
            readable.get(path[:end], True) for end in range(len(home.path) + 4, len(path) + 1, 4)
        )
    ]
    return pages.filter(path__in=allowed)


def readable_by(page, user) -> bool:
    """The page's own audience restriction (the content app's rule)."""

    return user_may_read(page, user)


def readable_chain(user, chain) -> bool:
    return all(readable_by(p, user) for p in chain)


def subscription_create(*, user, scope: str, page=None) -> Subscription:
    if user.role not in PLATFORM_ROLES:
        raise PermissionDenied(MSG_ROLE)
    if scope == Scope.SECTION:
        if page is None:
            raise ValidationError(MSG_SECTION_REQUIRED)
        if not section_choices(user).filter(pk=page.pk).exists():
            raise ValidationError(MSG_SECTION_OUTSIDE)
    else:
        page = None
    existing = Subscription.objects.filter(user=user, scope=scope, page=page).first()
    if existing is not None:
        raise ValidationError(MSG_ALREADY.format(subscription=existing))
    try:
        with transaction.atomic():
            return Subscription.objects.create(user=user, scope=scope, page=page)
    except IntegrityError as exc:  # the same subscription made at the same moment
        raise ValidationError(MSG_ALREADY.format(subscription=Scope(scope).label)) from exc


def subscription_delete(*, user, pk: int) -> bool:
    """Remove one of ``user``'s subscriptions; False when there is none with that id."""
    deleted, _ = Subscription.objects.filter(user=user, pk=pk).delete()
    return bool(deleted)


# --- the unsubscribe token -------------------------------------------------------------------


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed token naming the platform, the subscription and its owner (no expiry: an
    e-mail's link keeps working; it only ever removes that one subscription)."""
    return signing.dumps(
        {"p": connection.schema_name, "s": subscription.pk, "u": subscription.user_id},
        salt=UNSUBSCRIBE_SALT,
        compress=True,
    )


class InvalidToken(Exception):
    """The link is not one we made (altered, truncated, or for another platform)."""


@dataclass(frozen=True)
class UnsubscribeResult:
    done: bool  # True: removed now; False: it was already removed
    label: str


def _read_token(token: str) -> dict:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    if not isinstance(data, dict) or data.get("p") != connection.schema_name:
        raise InvalidToken
    if not isinstance(data.get("s"), int) or not isinstance(data.get("u"), int):
        raise InvalidToken
    return data


def unsubscribe_preview(token: str) -> UnsubscribeResult:
    """What the link would remove, without removing it."""
    data = _read_token(token)
    subscription = (
        Subscription.objects.select_related("page").filter(pk=data["s"], user_id=data["u"]).first()
    )
    if subscription is None:
        return UnsubscribeResult(done=False, label="")
    return UnsubscribeResult(done=True, label=str(subscription))


def unsubscribe_with_token(token: str) -> UnsubscribeResult:
    """Remove the subscription the token names, only if it still belongs to the user the token
    names. ``done`` is False when it was already removed (second click)."""
    data = _read_token(token)
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("page")
            .filter(pk=data["s"], user_id=data["u"])
            .first()
        )
        if subscription is None:
            return UnsubscribeResult(done=False, label="")
        label = str(subscription)
        subscription.delete()
    return UnsubscribeResult(done=True, label=label)


# --- links -----------------------------------------------------------------------------------


def page_url(page) -> str:
    """The page on the platform's host (Wagtail's own root URL, from its Site, is not used:
    e-mail links all come from tenants.links)."""
    parts = page.get_url_parts()
    if parts is None:  # not routable (no site): the content's entry
        return absolute_url("/contenus/")
    _site_id, _root, path = parts
    return absolute_url(path)


# --- events ----------------------------------------------------------------------------------


def _record(subscriptions, *, kind: str, key: str, title: str, url: str, extra=()) -> int:
    """One pending line per subscriber (user) for ``key``, then one digest job each."""
    now = timezone.now()
    by_user: dict[int, Subscription] = {}
    order = {Scope.SECTION: 0, Scope.WIKI: 1, Scope.EDITORS: 2}
    for subscription in subscriptions:
        kept = by_user.get(subscription.user_id)
        # the most specific subscription carries the line (its unsubscribe link is the
        # one the person most likely wants)
        if kept is None or order[subscription.scope] < order[kept.scope]:
            by_user[subscription.user_id] = subscription
    for user_id, subscription in by_user.items():
        line = PendingNotification.objects.filter(subscription__user_id=user_id, key=key).first()
        if line is None:
            PendingNotification.objects.create(
                subscription=subscription,
                kind=kind,
                key=key,
                title=title[:255],
                url=url,
                extra=list(extra),
                happened_at=now,
            )
        else:
            # republished before the e-mail went: same line, latest title; a page first
            # published in this batch stays "new"
            line.title, line.url, line.extra, line.happened_at = title[:255], url, list(extra), now
            line.save(update_fields=["title", "url", "extra", "happened_at"])
        _queue_digest(user_id)
    return len(by_user)


def _queue_digest(user_id: int) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    from subscriptions.tasks import send_digest

    lock = f"subscriptions.digest:{connection.schema_name}:{user_id}"
    try:
        # a savepoint: the refused insert must not abort the caller's transaction
        with transaction.atomic():
            send_digest.task.configure(
                queueing_lock=lock, schedule_in={"seconds": DIGEST_DELAY_SECONDS}
            ).defer(**{SCHEMA_ARG: connection.schema_name}, user_id=user_id)
    except AlreadyEnqueued:
        pass  # a digest is already waiting: it will carry this line too


def notify_page_published(page, *, first: bool) -> int:
    """Record a publication for every subscriber whose scope covers ``page``."""

    ancestors = page.get_ancestors(inclusive=True)
    if not PlatformHomePage.objects.filter(pk__in=ancestors.values("pk")).exists():
        return 0  # outside the platform's content tree
    subscriptions = Subscription.objects.filter(user__is_active=True).filter(
        Q(scope=Scope.WIKI) | Q(scope=Scope.SECTION, page__in=ancestors.values("pk"))
    )
    if not subscriptions.exists():
        return 0  # no link to build (the demo data publishes pages before any domain exists)
    # audience restrictions: nobody learns of a page they may not read (nor its title)
    chain = list(ancestors.filter(depth__gt=1).specific())
    subscriptions = [
        s for s in subscriptions.select_related("user") if readable_chain(s.user, chain)
    ]
    kind = PendingNotification.Kind
    return _record(
        subscriptions,
        kind=kind.PAGE_PUBLISHED if first else kind.PAGE_UPDATED,
        key=f"page:{page.pk}",
        title=page.title,
        url=page_url(page),
    )


def notify_form_version(version) -> int:
    """A new form version: editors' subscribers get the version page, its XSD and its
    specification file. Call it inside the transaction that stores the version.

    A version of a federation platform also goes to the ministry platform's editors'
    subscribers, with links to the ministry's copies of its pages (its editors' section
    lists every platform's versions): one editor account on the ministry platform follows
    every platform. Returns how many subscribers were told, on both platforms."""
    told = _notify_form_version_here(version)
    platform = current_platform()
    if platform.kind == Platform.Kind.FEDERATION:
        ministry = Platform.objects.filter(kind=Platform.Kind.MINISTRY).first()
        if ministry is not None:
            with schema_context(ministry.schema_name):
                told += _notify_form_version_from(version, platform)
    return told


def _notify_form_version_here(version) -> int:
    subscriptions = Subscription.objects.filter(user__is_active=True, scope=Scope.EDITORS)
    if not subscriptions.exists():
        return 0

    def file_url(kind: str) -> str:
        return absolute_url(reverse("forms_cms:version_file", args=[version.pk, kind]))

    document = version.document_type
    title = f"{document.label} — version {version.number}"
    return _record(
        subscriptions,
        kind=PendingNotification.Kind.FORM_VERSION,
        key=f"form_version:{version.pk}",
        title=title,
        url=absolute_url(reverse("forms_cms:version_detail", args=[version.pk])),
        extra=[
            {"label": "Schéma XSD", "url": file_url("xsd")},
            {"label": "Fichier de spécification", "url": file_url("specification")},
        ],
    )


def _notify_form_version_from(version, platform) -> int:
    """In the ministry's schema: its editors' subscribers hear of ``platform``'s version,
    with links to the ministry's pages that serve it (forms_cms.platform_version_*)."""
    subscriptions = Subscription.objects.filter(user__is_active=True, scope=Scope.EDITORS)
    if not subscriptions.exists():
        return 0

    def file_url(kind: str) -> str:
        return absolute_url(
            reverse("forms_cms:platform_version_file", args=[platform.code, version.pk, kind])
        )

    title = f"{version.document_type.label} — version {version.number} ({platform.short_name})"
    return _record(
        subscriptions,
        kind=PendingNotification.Kind.FORM_VERSION,
        key=f"form_version:{platform.code}:{version.pk}",
        title=title,
        url=absolute_url(
            reverse("forms_cms:platform_version_detail", args=[platform.code, version.pk])
        ),
        extra=[
            {"label": "Schéma XSD", "url": file_url("xsd")},
            {"label": "Fichier de spécification", "url": file_url("specification")},
        ],
    )


# --- the digest ------------------------------------------------------------------------------


def digest_send(user_id: int) -> int:
    """Send ``user_id`` one e-mail with every pending line and delete them; returns how many
    lines were sent (0: nothing pending, nothing sent)."""

    with transaction.atomic():
        lines = list(
            PendingNotification.objects.select_for_update(of=("self",))
            .filter(subscription__user_id=user_id)
            .select_related("subscription__page")
            .order_by("happened_at", "pk")
        )
        if not lines:
            return 0
        user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
        if user is not None:
            _send(user, lines, current_platform())
        PendingNotification.objects.filter(pk__in=[line.pk for line in lines]).delete()
    return len(lines) if user is not None else 0


def _send(user, lines: list[PendingNotification], platform) -> None:
    subscriptions = {line.subscription_id: line.subscription for line in lines}
    unsubscribe = [
        {
            "subscription": s,
            "url": absolute_url(reverse("subscriptions:unsubscribe", args=[unsubscribe_token(s)])),
        }
        for s in subscriptions.values()
    ]
    context = {
        "recipient": user,
        "platform": platform,
        "lines": lines,
        "count": len(lines),
        "unsubscribe": unsubscribe,
        "manage_url": absolute_url(reverse("subscriptions:manage")),
    }
    subject = " ".join(
        loader.render_to_string("subscriptions/email/digest_subject.txt", context).split()
    )
    body = loader.render_to_string("subscriptions/email/digest.txt", context)
    headers = {}
    if len(unsubscribe) == 1:
        # RFC 8058: mail clients offer their own one-click unsubscribe button
        headers = {
            "List-Unsubscribe": f"<{unsubscribe[0]['url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    EmailMultiAlternatives(subject=subject, body=body, to=[user.email], headers=headers).send()
