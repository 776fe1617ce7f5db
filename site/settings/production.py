"""Production: everything secret comes from the environment; HTTPS assumed."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import HARMONIA_BASE_DOMAIN, LOG_QUIET, logging_config

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
HARMONIA_LINK_SCHEME = "https"  # links in e-mails (tenants/links.py)
# A production settings module is production unless told otherwise: the test platform runs
# these settings with HARMONIA_ENVIRONMENT=recette.
HARMONIA_ENVIRONMENT = os.environ.get("HARMONIA_ENVIRONMENT", "production").strip().lower()

# --- HTTPS (`manage.py check --deploy` is clean: tests/test_security_settings.py) ------------
# nginx terminates TLS and says so in X-Forwarded-Proto; a plain HTTP request gets a 301 to
# the same URL in https (SecurityMiddleware).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
# The health probes of the load balancer and of the supervision speak plain HTTP to the node.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^health/"]
# One year of HSTS on the base domain and every platform under it ("<code>.<base domain>").
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Not preloaded: the browsers' preload list takes registrable domains only (the base domain is
# usually a sub-domain of the operator's or the State's, whose other sites we do not answer
# for) and leaving it takes months. Hence security.W021 silenced below.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]  # noqa: F405
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Forms posted from a platform's host to itself over https (Django checks the Origin header).
CSRF_TRUSTED_ORIGINS = [f"https://{HARMONIA_BASE_DOMAIN}", f"https://*.{HARMONIA_BASE_DOMAIN}"]
# nginx in front of each node appends the client's address to X-Forwarded-For
HARMONIA_PROXY_COUNT = int(os.environ.get("HARMONIA_PROXY_COUNT", 1))

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
