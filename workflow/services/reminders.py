"""Reminders (« relances »): e-mails to an organism's users while its document is not
transmitted — automatic, at the campaign's offsets from the organism's own deadline, or sent
by a gestionnaire to a selection of the workspace with a message they write.

Each reminder is a :class:`workflow.models.Reminder` row written in the same transaction as
the queued e-mails (procrastinate's jobs live in the same database): both happen or neither.
An automatic reminder is unique per organism, document, offset and deadline, so that a
worker restarted in the middle of a run, or two workers at once, never send it twice. Only
the latest offset already reached is sent, and only within a week of its day: a worker down
for a while, or a deadline entered late, does not flood a mailbox with every past reminder.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template import loader
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from organisms.models import Organism
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import Campaign, Dossier, Reminder
from workflow.services.deadlines import deadlines_for, is_late
from workflow.services.recipients import recipients_of

CATCH_UP = datetime.timedelta(days=7)
MAX_MESSAGE = 5000
MSG_ROLE = "Seul un gestionnaire de la plateforme envoie des relances."
MSG_EMPTY = "Écrivez le message de la relance."
MSG_TOO_LONG = "Le message dépasse {max} caractères : raccourcissez-le."
MSG_NO_SUBJECT = "Donnez un objet à la relance."
MSG_OFFSETS = (
    "« {text} » : écrivez des nombres de jours séparés par des virgules, négatifs avant la date "
    "limite et positifs après (par exemple -15, -3, 1, 15)."
)
MSG_OFFSETS_RANGE = "Chaque relance se place entre 90 jours avant et 90 jours après la date limite."


def offsets_parse(text: str) -> list[int]:
    """« -15, -3, 1, 15 » as sorted distinct integers; raises ValidationError with the reason."""
    values = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().replace("\u2212", "-")
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise ValidationError({"reminder_offsets": MSG_OFFSETS.format(text=part)}) from None
        if not -90 <= value <= 90:
            raise ValidationError({"reminder_offsets": MSG_OFFSETS_RANGE})
        values.add(value)
    return sorted(values)


def _facts(campaign, document_type, organism, deadline, today) -> dict:
    left = deadline.days_left(today) if deadline else None
    return {
        "campaign": campaign,
        "document_type": document_type,
        "organism": organism,
        "deadline": deadline,
        "days_left": left,
        "days_late": -left if left is not None and left < 0 else 0,
        "url": absolute_url(reverse("declarations:list")),
    }


def _send(*, organism, campaign, document_type, subject, body, recipients, **row) -> Reminder:
    """Write the journal row and queue one e-mail per address (addresses not disclosed)."""
    reminder = Reminder.objects.create(
        organism=organism,
        campaign=campaign,
        document_type=document_type,
        subject=subject,
        body=body,
        recipients=recipients,
        **row,
    )
    for address in recipients:
        queue_email(subject=subject, body=body, to=[address])
    return reminder


def automatic_reminders_send(today: datetime.date | None = None) -> list[Reminder]:
    """Send the automatic reminders due today on the current platform (idempotent)."""
    today = today or timezone.localdate()
    sent = []
    for campaign in Campaign.objects.filter(opening_date__lte=today).exclude(reminder_offsets=[]):
        offsets = sorted(campaign.reminder_offsets)
        for document_type in campaign.document_types.all():
            sent += _campaign_document_reminders(campaign, document_type, offsets, today)
    return sent


def _campaign_document_reminders(campaign, document_type, offsets, today) -> list[Reminder]:
    organisms = list(document_type.filers(Organism.objects.filter(is_active=True)))
    transmitted = set(
        Dossier.objects.filter(
            campaign=campaign, document_type=document_type, transmitted_at__isnull=False
        ).values_list("organism_id", flat=True)
    )
    waiting = [o for o in organisms if o.pk not in transmitted]
    if not waiting:
        return []
    schedules = deadlines_for(campaign, document_type, waiting)
    done = set(
        Reminder.objects.filter(
            campaign=campaign, document_type=document_type, kind=Reminder.Kind.AUTOMATIC
        ).values_list("organism_id", "offset", "deadline")
    )
    due = []
    for organism in waiting:
        day = schedules[organism.pk].effective
        if day is None:
            continue  # nothing to count from: the list says « à préciser » instead
        reached = [o for o in offsets if day + datetime.timedelta(days=o) <= today]
        if not reached:
            continue
        offset = reached[-1]
        if today - (day + datetime.timedelta(days=offset)) > CATCH_UP:
            continue
        if (organism.pk, offset, day) not in done:
            due.append((organism, offset, day))
    if not due:
        return []
    addresses = recipients_of(o.pk for o, _, _ in due)
    subject_template = loader.get_template("workflow/email/reminder_subject.txt")
    body_template = loader.get_template("workflow/email/reminder.txt")
    sent = []
    for organism, offset, day in due:
        recipients = addresses.get(organism.pk, [])
        facts = _facts(campaign, document_type, organism, schedules[organism.pk], today)
        subject = " ".join(subject_template.render(facts).split())
        body = body_template.render({**facts, "offset": offset})
        try:
            with transaction.atomic():
                sent.append(
                    _send(
                        organism=organism,
                        campaign=campaign,
                        document_type=document_type,
                        subject=subject,
                        body=body,
                        recipients=recipients,
                        kind=Reminder.Kind.AUTOMATIC,
                        offset=offset,
                        deadline=day,
                    )
                )
        except IntegrityError:
            continue  # another worker sent it meanwhile
    return sent


def default_message(campaign, document_type) -> tuple[str, str]:
    """The subject and message a gestionnaire starts from (they edit both)."""
    subject = f"Relance — {document_type.label}, exercice {campaign.exercise}"
    message = (
        f"Votre dossier « {document_type.label} » de l'exercice {campaign.exercise} n'a pas "
        "encore été transmis. Nous vous remercions de le compléter et de le transmettre avant "
        "votre date limite, ou de nous écrire dans l'espace d'échange du dossier si vous "
        "rencontrez une difficulté."
    )
    return subject, message


def manual_reminders_send(
    *, campaign, document_type, organisms, subject: str, message: str, acting_user
) -> tuple[list[Reminder], list[tuple[Organism, str]]]:
    """A gestionnaire's reminder to each of ``organisms``: (sent, [(organism, why not)])."""
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ROLE)
    subject, message = (subject or "").strip(), (message or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = MSG_NO_SUBJECT
    if not message:
        errors["message"] = MSG_EMPTY
    elif len(message) > MAX_MESSAGE:
        errors["message"] = MSG_TOO_LONG.format(max=MAX_MESSAGE)
    if errors:
        raise ValidationError(errors)
    organisms = list(organisms)
    dossiers = {
        d.organism_id: d
        for d in Dossier.objects.filter(
            campaign=campaign, document_type=document_type, organism__in=organisms
        ).only("pk", "organism_id", "transmitted_at")
    }
    schedules = deadlines_for(campaign, document_type, organisms)
    addresses = recipients_of(o.pk for o in organisms)
    today = timezone.localdate()
    body_template = loader.get_template("workflow/email/reminder_manual.txt")
    sent, skipped = [], []
    with transaction.atomic():
        for organism in organisms:
            dossier = dossiers.get(organism.pk)
            if dossier is not None and dossier.transmitted_at is not None:
                skipped.append((organism, "dossier déjà transmis : pas de relance"))
                continue
            recipients = addresses.get(organism.pk, [])
            if not recipients:
                skipped.append((organism, "aucun utilisateur actif avec une adresse électronique"))
                continue
            facts = _facts(campaign, document_type, organism, schedules[organism.pk], today)
            body = body_template.render(
                {
                    **facts,
                    "message": message,
                    "late": is_late(schedules[organism.pk], dossier, True),
                }
            )
            sent.append(
                _send(
                    organism=organism,
                    campaign=campaign,
                    document_type=document_type,
                    subject=subject,
                    body=body,
                    recipients=recipients,
                    kind=Reminder.Kind.MANUAL,
                    deadline=schedules[organism.pk].effective,
                    sent_by=acting_user,
                )
            )
    return sent, skipped


def last_reminded(campaign, document_type) -> dict[int, datetime.datetime]:
    """{organism id: when it was last reminded} about one campaign's document."""
    return dict(
        Reminder.objects.filter(campaign=campaign, document_type=document_type)
        .order_by()
        .values("organism_id")
        .annotate(last=Max("sent_at"))
        .values_list("organism_id", "last")
    )
