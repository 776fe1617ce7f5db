"""Jobs that every platform uses. Discovered by procrastinate (``tasks`` modules)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from tenants.jobs import tenant_task


@tenant_task(name="tenants.send_email", retry=3)
def send_email(
    *, subject: str, body: str, to: list[str], html: str = "", from_email: str | None = None
) -> None:
    """Send one e-mail through Django's configured backend (SMTP, file, console…)."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, from_email=from_email)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def queue_email(
    *, subject: str, body: str, to: list[str], html: str = "", from_email: str | None = None
) -> int:
    """Queue an e-mail; a worker sends it. Returns the job id."""
    return send_email.defer(subject=subject, body=body, to=to, html=html, from_email=from_email)
