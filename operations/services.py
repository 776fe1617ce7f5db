"""Writes of the operations app: anomalies and their history, with the correspondents' e-mails."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from operations.models import (
    PLATFORM_CHOICES,
    Anomaly,
    AnomalyEvent,
    Correspondent,
    MaintenanceStatus,
    MaintenanceWindow,
    Reclassification,
    Release,
    Severity,
    Status,
)
from organisms.services.memberships import account_status_email_queue, welcome_email_queue
from tenants.models import Platform
from tenants.tasks import queue_email


def correspondent_emails(platforms: list[str] | None = None) -> list[str]:
    """Active correspondents; with ``platforms``, those who follow one of them or all
    platforms (a correspondent with no platform ticked follows every one)."""
    correspondents = Correspondent.objects.filter(active=True)
    if platforms is not None:
        correspondents = correspondents.filter(
            Q(platforms=[]) | Q(platforms__overlap=list(platforms))
        )
    return list(correspondents.values_list("email", flat=True))


MSG_EMAIL_OF_STAFF = (
    "L'adresse {email} est déjà celle d'un compte de l'opérateur ou de la CGLLS : "
    "donnez l'adresse personnelle du correspondant."
)


@transaction.atomic
def correspondent_save(
    correspondent: Correspondent | None = None,
    *,
    name: str,
    email: str,
    platforms: list[str],
    active: bool,
    tracker_access: bool,
    acting_user,
    request=None,
) -> Correspondent:
    """Add or change a correspondent. With ``tracker_access`` (and while active) the person has
    an account on the public host (role correspondant: reads and reports anomalies); a new
    account has no password and its holder receives a single-use link to choose one. Without
    it, or once inactive, the account is deactivated (kept for the history it signed); its
    holder is told by e-mail when it is suspended and when it is restored."""

    correspondent = correspondent or Correspondent()
    user = correspondent.user
    was_active = bool(user and user.is_active)
    email = email.strip().lower()
    staff = User.objects.filter(email__iexact=email).exclude(role=Role.CORRESPONDANT)
    if tracker_access and staff.exists():
        raise ValidationError({"email": MSG_EMAIL_OF_STAFF.format(email=email)})
    correspondent.name, correspondent.email = name.strip(), email
    correspondent.platforms, correspondent.active = sorted(platforms), active
    correspondent.full_clean(exclude=["user"])
    created = False
    if tracker_access and active:
        if user is None:
            user = User.objects.filter(email__iexact=email, role=Role.CORRESPONDANT).first()
        if user is None:
            first, _, last = correspondent.name.partition(" ")
            user = User(username=email, email=email, first_name=first, last_name=last)
            user.role = Role.CORRESPONDANT
            user.set_unusable_password()
            created = True
        user.email, user.is_active = email, True
        user.save()
        correspondent.user = user
    elif user is not None:
        user.is_active = False
        user.save(update_fields=["is_active"])
    correspondent.save()
    if created and request is not None:
        welcome_email_queue(user=user)  # the job row commits with the account
    elif user is not None and not created and user.is_active != was_active:
        account_status_email_queue(user=user, active=user.is_active)  # suspended or restored
    return correspondent


def _next_number(year: int) -> str:
    prefix = f"ANO-{year}-"
    last = Anomaly.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))["m"]
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:03d}"


def notify_correspondents(anomaly: Anomaly, event: AnomalyEvent) -> int:
    """One e-mail to each active correspondent following an affected platform, and to CGLLS
    (the contracting authority is told of every anomaly); addresses are not shown to each
    other."""
    context = {"anomaly": anomaly, "event": event}
    return _mail_each(
        correspondent_emails(anomaly.platforms) + cglls_emails(),
        subject=render_to_string("operations/email/anomaly_subject.txt", context).strip(),
        body=render_to_string("operations/email/anomaly_body.txt", context),
    )


@transaction.atomic
def anomaly_create(*, by, **fields) -> Anomaly:
    # Serialise numbering: one anomaly number at a time.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('operations.anomaly_number'))")
    anomaly = Anomaly(created_by=by, **fields)
    anomaly.number = _next_number(timezone.localdate().year)
    anomaly.full_clean(exclude=["number"])
    anomaly.save()
    event = AnomalyEvent.objects.create(
        anomaly=anomaly,
        by=by,
        new_status=anomaly.status,
        new_severity=anomaly.severity,
        comment="Anomalie enregistrée.",
    )
    notify_correspondents(anomaly, event)
    return anomaly


@transaction.atomic
def anomaly_change(
    anomaly: Anomaly,
    *,
    by,
    status: str | None = None,
    severity: str | None = None,
    comment: str = "",
    now=None,
) -> AnomalyEvent | None:
    """Change status and/or severity; records the event and e-mails the correspondents.
    Returns None when nothing changed."""
    now = now or timezone.now()
    anomaly = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
    new_status = status if status and status != anomaly.status else ""
    new_severity = severity if severity and severity != anomaly.severity else ""
    if not new_status and not new_severity:
        return None
    event = AnomalyEvent(anomaly=anomaly, by=by, comment=comment)
    if new_status:
        event.old_status, event.new_status = anomaly.status, new_status
        anomaly.status = new_status
        today = timezone.localdate(now)
        if new_status != Status.NEW and anomaly.acknowledged_at is None:
            anomaly.acknowledged_at = now
        if new_status == Status.FIXED_TEST and anomaly.fixed_test_on is None:
            anomaly.fixed_test_on = today
        if new_status == Status.FIXED_PROD and anomaly.fixed_prod_on is None:
            anomaly.fixed_prod_on = today
    if new_severity:
        event.old_severity, event.new_severity = anomaly.severity, new_severity
        anomaly.severity = new_severity
    anomaly.save()
    event.save()
    notify_correspondents(anomaly, event)
    return event


def reclassification_request(
    anomaly: Anomaly, *, by, requested_severity: str, justification: str
) -> Reclassification:
    return Reclassification.objects.create(
        anomaly=anomaly,
        requested_by=by,
        requested_severity=Severity(requested_severity),
        justification=justification.strip(),
    )


@transaction.atomic
def reclassification_decide(request: Reclassification, *, by, accepted: bool) -> None:
    request.accepted = accepted
    request.decided_by = by
    request.decided_at = timezone.now()
    request.save(update_fields=["accepted", "decided_by", "decided_at"])
    if accepted:
        anomaly_change(
            request.anomaly,
            by=by,
            severity=request.requested_severity,
            comment=f"Reclassement accepté : {request.justification}",
        )


def cglls_emails() -> list[str]:
    """CGLLS accounts of the public host (this runs in the public schema)."""

    with schema_context("public"):
        return list(
            User.objects.filter(role=Role.CGLLS, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )


def gestionnaire_emails(codes) -> list[str]:
    """Active gestionnaires of the given platforms (read in each platform's schema)."""

    emails: list[str] = []
    for platform in Platform.objects.filter(code__in=list(codes)).order_by("code"):
        with schema_context(platform.schema_name):
            emails += User.objects.filter(role=Role.GESTIONNAIRE, is_active=True).values_list(
                "email", flat=True
            )
    return emails


def _mail_each(recipients, *, subject: str, body: str) -> int:
    unique = sorted({email.lower() for email in recipients if email})
    for email in unique:
        queue_email(subject=subject, body=body, to=[email])
    return len(unique)


@transaction.atomic
def release_publish(release: Release) -> int:
    """Publish a release: it becomes the footer's version; CGLLS and correspondents are told."""
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.published:
        return 0
    release.published = True
    release.published_at = timezone.now()
    release.save(update_fields=["published", "published_at"])
    context = {"release": release}
    return _mail_each(
        cglls_emails() + correspondent_emails(),
        subject=f"[Harmonia] Version {release.number} publiée",
        body=render_to_string("operations/email/release_body.txt", context),
    )


MAINTENANCE_NOTICE = dt.timedelta(hours=48)
MSG_MAINTENANCE_NOTICE = (
    "Une maintenance se demande au moins 48 heures à l'avance (début au plus tôt le "
    "{earliest:%d/%m/%Y à %H:%M}) : choisissez un début plus tardif, ou indiquez l'anomalie "
    "bloquante qu'elle corrige."
)
MSG_MAINTENANCE_PAST = "Le début ne peut pas être passé."
MSG_NOT_BLOCKING = (
    "L'anomalie {number} n'est pas bloquante (gravité : {severity}) : seule la correction "
    "d'une anomalie critique dispense du délai de 48 heures."
)
MSG_ALREADY_DECIDED = "Cette maintenance est déjà {status} : la décision ne change plus."
MSG_REFUSAL_REASON = "Indiquez le motif du refus."
MSG_MAINTENANCE_OVER = "Cette maintenance est déjà terminée : elle ne peut plus être approuvée."


def organism_user_emails(codes) -> list[str]:
    """Active organisme accounts of the given platforms (read in each platform's schema)."""

    emails: list[str] = []
    for platform in Platform.objects.filter(code__in=list(codes)).order_by("code"):
        with schema_context(platform.schema_name):
            emails += User.objects.filter(role=Role.ORGANISME, is_active=True).values_list(
                "email", flat=True
            )
    return emails


@transaction.atomic
def maintenance_request(*, by, now=None, **fields) -> MaintenanceWindow:
    """The operator's staff ask CGLLS's approval for a maintenance window (CCTP 3.2.5): at
    least 48 hours ahead, unless it fixes a blocking (critical) anomaly. CGLLS is e-mailed.
    ValidationError (French, by field) and nothing stored when a rule is broken."""
    now = now or timezone.now()
    window = MaintenanceWindow(requested_by=by, status=MaintenanceStatus.REQUESTED, **fields)
    errors: dict[str, list[str]] = {}
    try:
        window.full_clean(exclude=["requested_by", "decided_by"])
    except ValidationError as error:
        errors = error.message_dict
    anomaly = window.blocking_anomaly
    if anomaly is not None and anomaly.severity != Severity.CRITICAL:
        errors.setdefault(
            "blocking_anomaly",
            [
                MSG_NOT_BLOCKING.format(
                    number=anomaly.number, severity=anomaly.get_severity_display().lower()
                )
            ],
        )
    if window.starts_at and "starts_at" not in errors:
        if window.starts_at < now:
            errors["starts_at"] = [MSG_MAINTENANCE_PAST]
        elif anomaly is None and window.starts_at < now + MAINTENANCE_NOTICE:
            earliest = timezone.localtime(now + MAINTENANCE_NOTICE)
            errors["starts_at"] = [MSG_MAINTENANCE_NOTICE.format(earliest=earliest)]
    if errors:
        raise ValidationError(errors)
    window.save()
    start = timezone.localtime(window.starts_at)
    _mail_each(
        cglls_emails(),
        subject=f"[Harmonia] Demande d'accord : maintenance le {start:%d/%m/%Y}",
        body=render_to_string("operations/email/maintenance_request_body.txt", {"window": window}),
    )
    return window


@transaction.atomic
def maintenance_decide(
    window: MaintenanceWindow, *, by, approve: bool, comment: str = "", now=None
) -> int:
    """CGLLS approves or refuses a requested window. On approval the banner shows on the
    affected platforms and a notice goes to their organisme users and gestionnaires and to the
    correspondents following them; on refusal the requester hears why. Returns how many
    people were e-mailed."""
    now = now or timezone.now()
    window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
    comment = comment.strip()
    if window.status != MaintenanceStatus.REQUESTED:
        status = window.get_status_display().lower()
        raise ValidationError({"decision": MSG_ALREADY_DECIDED.format(status=status)})
    if not approve and not comment:
        raise ValidationError({"comment": MSG_REFUSAL_REASON})
    if approve and window.ends_at <= now:
        raise ValidationError({"decision": MSG_MAINTENANCE_OVER})
    window.status = MaintenanceStatus.APPROVED if approve else MaintenanceStatus.REFUSED
    window.decided_by, window.decided_at, window.decision_comment = by, now, comment
    window.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    start = timezone.localtime(window.starts_at)
    context = {"window": window}
    if not approve:
        requester = [window.requested_by.email] if window.requested_by else []
        return _mail_each(
            requester,
            subject=f"[Harmonia] Maintenance du {start:%d/%m/%Y} refusée par la CGLLS",
            body=render_to_string("operations/email/maintenance_refused_body.txt", context),
        )
    return _mail_each(
        correspondent_emails(window.platforms)
        + gestionnaire_emails(window.platforms)
        + organism_user_emails(window.platforms),
        subject=f"[Harmonia] Maintenance programmée le {start:%d/%m/%Y}",
        body=render_to_string("operations/email/maintenance_body.txt", context),
    )


# Fields the details screen edits; status and severity go through anomaly_change (e-mailed).
DETAIL_FIELDS = (
    "short_description",
    "found_on",
    "fixed_test_on",
    "fixed_prod_on",
    "release",
    "reporter",
    "platforms",
)


def _detail_text(anomaly: Anomaly, name: str) -> str:
    value = getattr(anomaly, name)
    if name == "platforms":
        return ", ".join(anomaly.platform_labels()) or "—"
    if name == "release":
        return value.number if value else "—"
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if name == "short_description":
        return f"« {value} »"
    return str(value) if value else "—"


def _detail_date_errors(anomaly: Anomaly) -> dict[str, str]:
    """Fix dates follow the date found and each other, and none is in the future."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    found, test, prod = anomaly.found_on, anomaly.fixed_test_on, anomaly.fixed_prod_on
    for name, value in (("found_on", found), ("fixed_test_on", test), ("fixed_prod_on", prod)):
        if value and value > today:
            label = Anomaly._meta.get_field(name).verbose_name
            errors[name] = f"« {label.capitalize()} » ne peut pas être une date future."
    # (field, its value, what it must not precede, that value), checked in this order
    for name, later, what, earlier in (
        ("fixed_test_on", test, "la date de constat", found),
        ("fixed_prod_on", prod, "la date de constat", found),
        ("fixed_prod_on", prod, "la correction en recette", test),
    ):
        if later and earlier and later < earlier:
            label = Anomaly._meta.get_field(name).verbose_name.capitalize()
            errors.setdefault(
                name, f"« {label} » ne peut pas précéder {what} ({earlier:%d/%m/%Y})."
            )
    return errors


@transaction.atomic
def anomaly_update_details(anomaly: Anomaly, *, by, **fields) -> AnomalyEvent | None:
    """Edit an anomaly's details (not its status nor severity); records an event listing
    each change ("Version de livraison : — → 2.3.1"). Returns None when nothing changed.

    No e-mail: correspondents are told of creations and of status or severity changes only.
    Raises ValidationError (French, keyed by field) and saves nothing when a value is wrong."""
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"anomaly_update_details: unexpected fields {sorted(unknown)}")
    if "platforms" in fields:  # one order everywhere, so a mere reordering is no change
        order = {code: i for i, (code, _) in enumerate(PLATFORM_CHOICES)}
        fields["platforms"] = sorted(set(fields["platforms"]), key=lambda c: order.get(c, 99))
    anomaly = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
    before = {name: (getattr(anomaly, name), _detail_text(anomaly, name)) for name in fields}
    for name, value in fields.items():
        setattr(anomaly, name, value)
    try:
        anomaly.full_clean(exclude=["created_by"])
        errors = {}
    except ValidationError as error:
        errors = error.message_dict
    for name, message in _detail_date_errors(anomaly).items():
        errors.setdefault(name, [message])
    if errors:
        raise ValidationError(errors)
    changed = [
        name
        for name in DETAIL_FIELDS
        if name in fields
        and (
            set(before[name][0]) != set(fields[name])
            if name == "platforms"
            else before[name][0] != getattr(anomaly, name)
        )
    ]
    if not changed:
        return None
    anomaly.save(update_fields=changed)
    changes = [
        f"{Anomaly._meta.get_field(name).verbose_name.capitalize()} : "
        f"{before[name][1]} → {_detail_text(anomaly, name)}"
        for name in changed
    ]
    return AnomalyEvent.objects.create(anomaly=anomaly, by=by, comment=" ; ".join(changes))
