"""Production: everything secret comes from the environment; HTTPS assumed."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOG_QUIET, logging_config

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
HARMONIA_LINK_SCHEME = "https"  # links in e-mails (tenants/links.py)

# --- Logs and error reports (observability) -------------------------------------------------
# One JSON object per line by default (HARMONIA_LOG_FORMAT=text for plain lines).
HARMONIA_LOG_FORMAT = os.environ.get("HARMONIA_LOG_FORMAT", "json")
LOGGING = logging_config(HARMONIA_LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"), LOG_QUIET)
# Error reports to Sentry (or a compatible service, GlitchTip…) only when SENTRY_DSN is set;
# the `sentry` extra installs sentry-sdk. No personal data is sent (user ids only, by the
# request id in the logs).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    try:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError as exc:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed (pip install 'harmonia[sentry]')."
        ) from exc
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
