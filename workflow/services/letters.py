"""The campaign letter: written by the gestionnaires in the CMS (Wagtail's rich text editor, on
the campaign), e-mailed once on the opening day to every active user of the organisms bound
to file one of the campaign's documents, and shown on their home page while the campaign is
open. Sent in the transaction that marks it sent (the e-mails are jobs of the same database):
a letter goes out once, to the users of that day."""

from __future__ import annotations

from django.db import transaction
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail.rich_text import expand_db_html

from accounts.models import Role, User
from organisms.models import Organism
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow.models import Campaign


def letter_html(campaign) -> str:
    """The letter as HTML (Wagtail's stored rich text, links expanded)."""
    return expand_db_html(campaign.letter) if campaign.letter else ""


def letter_recipients(campaign) -> list[User]:
    """Active organisme users of the active organisms bound to file one of its documents."""
    organisms = Organism.objects.none()
    active = Organism.objects.filter(is_active=True)
    for document_type in campaign.document_types.all():
        organisms = organisms | document_type.filers(active)
    return list(
        User.objects.filter(
            is_active=True,
            role=Role.ORGANISME,
            membership__organism__in=organisms.values("pk"),
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def campaign_letters_send(today=None) -> list[Campaign]:
    """Send the letters whose opening day has come and which were not sent (idempotent)."""
    today = today or timezone.localdate()
    sent = []
    pending = Campaign.objects.filter(
        opening_date__lte=today, deadline__gte=today, letter_sent_at__isnull=True
    ).exclude(letter="")
    for campaign in pending:
        with transaction.atomic():
            locked = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(pk=campaign.pk, letter_sent_at__isnull=True)
                .first()
            )
            if locked is None:
                continue  # sent, or being sent by another worker
            recipients = letter_recipients(locked)
            html = letter_html(locked)
            context = {"campaign": locked, "url": absolute_url(reverse("home"))}
            text = loader.render_to_string(
                "workflow/email/letter.txt", {**context, "text": _text_of(html)}
            )
            subject = locked.letter_subject or f"Ouverture de la campagne {locked.exercise}"
            for user in recipients:
                queue_email(subject=subject, body=text, html=html, to=[user.email])
            locked.letter_sent_at = timezone.now()
            locked.letter_recipients = len(recipients)
            locked.save(update_fields=["letter_sent_at", "letter_recipients"])
        sent.append(locked)
    return sent


def _text_of(html: str) -> str:
    """The plain-text part of the e-mail: paragraphs kept, tags gone."""
    for tag in ("</p>", "<br>", "<br/>", "</li>", "</h2>", "</h3>", "</h4>"):
        html = html.replace(tag, tag + "\n")
    html = html.replace("<li>", "<li>• ")
    lines = [" ".join(line.split()) for line in strip_tags(html).splitlines()]
    return "\n\n".join(line for line in lines if line)


def letters_for_home(organism) -> list[Campaign]:
    """The letters of the open campaigns that concern ``organism`` (its home page)."""
    today = timezone.localdate()
    campaigns = Campaign.objects.filter(opening_date__lte=today, deadline__gte=today).exclude(
        letter=""
    )
    return [
        c for c in campaigns.prefetch_related("document_types")
        if any(d.must_file(organism) for d in c.document_types.all())
    ]  # fmt: skip
