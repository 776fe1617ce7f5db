"""Sign-in failures and lock-outs as security events (connected in ``AccountsConfig.ready``).

Each failed sign-in is one event (the operator's rules turn a burst of them into an alert);
django-axes' lock-out signal is another, sent when an account reaches the failure limit and
again for each attempt while it stays locked."""

from __future__ import annotations

from tenants.models import SecurityEvent
from tenants.security_events import security_event_record

USERNAME_FIELD = "username"


def login_failed_record(sender, credentials=None, request=None, **kwargs) -> None:
    """Django's ``user_login_failed``: the username typed (never the password, which Django
    has already masked in ``credentials``)."""
    username = str((credentials or {}).get(USERNAME_FIELD, ""))
    security_event_record(
        SecurityEvent.Kind.LOGIN_FAILED,
        username=username,
        detail="Identifiant ou mot de passe incorrect.",
    )


def locked_out_record(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes' ``user_locked_out``."""
    failures = getattr(request, "axes_failures_since_start", None)
    detail = (
        f"Compte verrouillé après {failures} échecs de connexion."
        if failures
        else "Tentative de connexion sur un compte verrouillé."
    )
    security_event_record(SecurityEvent.Kind.LOCKOUT, username=str(username or ""), detail=detail)
