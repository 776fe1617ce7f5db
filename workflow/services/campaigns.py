"""Campaign writes. Views call these; they check the role and validate the dates."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from wagtail.log_actions import log

from accounts.models import Role
from forms_cms.models import DocumentType
from workflow.models import Campaign
from workflow.services.reminders import offsets_parse

MSG_ONLY_GESTIONNAIRE = "Seul un gestionnaire de la plateforme peut ouvrir une campagne."
MSG_DEADLINE_BEFORE_OPENING = (
    "La date limite ({deadline}) précède la date d'ouverture ({opening}) : corrigez l'une des deux."
)
MSG_NO_DOCUMENT = "Choisissez au moins un type de document à collecter."
MSG_EXERCISE_RANGE = "L'exercice doit être une année entre 2000 et 2100."


def campaign_open(
    *,
    exercise: int,
    document_types: list[DocumentType],
    opening_date: datetime.date,
    deadline: datetime.date,
    acting_user,
) -> Campaign:
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE)
    if not 2000 <= exercise <= 2100:
        raise ValidationError({"exercise": MSG_EXERCISE_RANGE})
    if deadline < opening_date:
        raise ValidationError(
            {
                "deadline": MSG_DEADLINE_BEFORE_OPENING.format(
                    deadline=deadline.strftime("%d/%m/%Y"),
                    opening=opening_date.strftime("%d/%m/%Y"),
                )
            }
        )
    if not document_types:
        raise ValidationError({"document_types": MSG_NO_DOCUMENT})
    with transaction.atomic():
        campaign = Campaign.objects.create(
            exercise=exercise, opening_date=opening_date, deadline=deadline, opened_by=acting_user
        )
        campaign.document_types.set(document_types)
        log(
            instance=campaign,
            action="harmonia.campaign_opened",
            user=acting_user,
            data={
                "exercise": exercise,
                "document_types": [d.code for d in document_types],
                "opening_date": opening_date,
                "deadline": deadline,
            },
        )
    return campaign


MSG_ONLY_GESTIONNAIRE_REMINDERS = "Seul un gestionnaire de la plateforme règle les relances."


def campaign_reminders_set(*, campaign: Campaign, text: str, acting_user) -> Campaign:
    """Set the campaign's automatic reminders from « -15, -3, 1, 15 » (journalled)."""
    if acting_user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_ONLY_GESTIONNAIRE_REMINDERS)
    offsets = offsets_parse(text)
    with transaction.atomic():
        previous = list(campaign.reminder_offsets)
        campaign.reminder_offsets = offsets
        campaign.save(update_fields=["reminder_offsets"])
        log(
            instance=campaign,
            action="harmonia.campaign_reminders_set",
            user=acting_user,
            data={"before": previous, "after": offsets},
        )
    return campaign
