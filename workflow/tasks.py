"""The campaigns' scheduled mail. Discovered by procrastinate (``tasks`` modules).

Every hour from 07:00 to 19:00 (UTC, as procrastinate reads cron expressions), on every
declaration platform: the campaign letters whose opening day has come, then the automatic
reminders due. Both are idempotent (a letter is sent once, a reminder once per offset and
deadline), so that several workers, a restarted worker or a missed hour change nothing.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from tenants.models import Platform
from workflow.services.letters import campaign_letters_send
from workflow.services.reminders import automatic_reminders_send

CAMPAIGN_MAIL_CRON = "0 7-19 * * *"
CAMPAIGN_MAIL_TASK = "workflow.campaign_mail"


def campaign_mail_send() -> dict[str, tuple[int, int]]:
    """{platform code: (letters sent, reminders sent)} over every declaration platform."""
    done = {}
    for platform in Platform.objects.declaration_platforms():
        with schema_context(platform.schema_name):
            letters = campaign_letters_send()
            reminders = automatic_reminders_send()
        done[platform.code] = (len(letters), len(reminders))
    return done


@app.periodic(cron=CAMPAIGN_MAIL_CRON)
@app.task(name=CAMPAIGN_MAIL_TASK, retry=RetryStrategy(max_attempts=3, wait=600))
def campaign_mail(timestamp: int) -> dict[str, tuple[int, int]]:
    """``timestamp``: the scheduled time, given by procrastinate."""
    connection.set_schema_to_public()
    try:
        return campaign_mail_send()
    finally:
        if not connection.in_atomic_block:
            connection.close()
