"""The one e-mail backend every sender goes through (Django's ``EMAIL_BACKEND``).

In production it hands each message unchanged to the real backend
(``HARMONIA_EMAIL_BACKEND``: SMTP, files…). Elsewhere (test platform, development) it first
prefixes the subject (« [RECETTE] … ») and sends the message to the catch-all address
``HARMONIA_RECETTE_MAIL_TO`` instead of its recipients, who are named at the top of the body
and in the ``X-Harmonia-Original-To`` header; without a catch-all address nothing is sent.
Being the backend, it catches every sender — the job that sends queued e-mails, the
subscriptions' digests, anything Django itself sends — so no sender can forget the rule.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from harmonia import environment

logger = logging.getLogger(__name__)

ORIGINAL_TO_HEADER = "X-Harmonia-Original-To"


def redirect_message(message, *, prefix: str, catch_all: str) -> None:
    """Rewrite ``message`` for an environment other than production (in place)."""
    if prefix and not message.subject.startswith(prefix):
        message.subject = f"{prefix} {message.subject}"
    original = [*message.to, *message.cc, *message.bcc]
    message.extra_headers[ORIGINAL_TO_HEADER] = ", ".join(original)
    message.body = f"{prefix} Destinataires d'origine : {', '.join(original)}\n\n{message.body}"
    message.to, message.cc, message.bcc = [catch_all], [], []
    message.reply_to = []


class EnvironmentEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.inner = get_connection(
            settings.HARMONIA_EMAIL_BACKEND, fail_silently=fail_silently, **kwargs
        )

    def open(self):
        return self.inner.open()

    def close(self):
        return self.inner.close()

    def send_messages(self, email_messages) -> int:
        messages = list(email_messages or [])
        if not messages or environment.is_production():
            return self.inner.send_messages(messages)
        catch_all = settings.HARMONIA_RECETTE_MAIL_TO
        if not catch_all:
            for message in messages:
                logger.warning(
                    "e-mail not sent (%s without HARMONIA_RECETTE_MAIL_TO): %s",
                    environment.current(),
                    message.subject,
                )
            return 0
        for message in messages:
            redirect_message(message, prefix=environment.subject_prefix(), catch_all=catch_all)
        return self.inner.send_messages(messages)
