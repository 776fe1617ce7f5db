"""Settings shared by every environment. The environment is read here and only here."""

from __future__ import annotations

import importlib.util
import os
from datetime import date, timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from harmonia.db import PROJECT_DIR, database_config
from harmonia.logs import logging_config

BASE_DIR: Path = PROJECT_DIR
VAR_DIR = Path(os.environ.get("HARMONIA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False

# --- Environment (harmonia/environment.py) ---------------------------------------------------
# production, recette (the test platform) or development. Outside production: a banner on
# every page, a prefix on every e-mail's subject, every e-mail to HARMONIA_RECETTE_MAIL_TO
# (none sent without it) and no automatic transmission to partners. Production settings
# default to production, dev settings to development; here the safe side for a copy: recette.
HARMONIA_ENVIRONMENT = os.environ.get("HARMONIA_ENVIRONMENT", "recette").strip().lower()
if HARMONIA_ENVIRONMENT not in {"production", "recette", "development"}:
    raise ImproperlyConfigured(
        f"HARMONIA_ENVIRONMENT={HARMONIA_ENVIRONMENT!r}: production, recette or development."
    )
HARMONIA_RECETTE_MAIL_TO = os.environ.get("HARMONIA_RECETTE_MAIL_TO", "").strip()

# --- Platforms (django-tenants) -------------------------------------------------------------
# Each platform answers on "<code>.<base domain>"; the public host is the base domain itself.
# A port on it ("localhost:8000") is not part of any host name: it only goes into the
# absolute links e-mails carry (tenants/links.py).
HARMONIA_BASE_DOMAIN, _sep, HARMONIA_BASE_PORT = os.environ.get(
    "HARMONIA_BASE_DOMAIN", "localhost"
).partition(":")
# Scheme of those links; production overrides it (https).
HARMONIA_LINK_SCHEME = "http"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [HARMONIA_BASE_DOMAIN, f".{HARMONIA_BASE_DOMAIN}"]

# Shared apps live in the public schema; see README "Architecture" for why each is there.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "accounts",  # public schema: operator staff and CGLLS; tenant schemas: platform users
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "procrastinate.contrib.django",
    "operations",  # public schema only: anomalies, releases, maintenance windows
    "reversibility",  # no tables: export/import commands over every schema
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "axes",
    "organisms",
    "forms_cms",
    "workflow",
    "declarations",
    "partners",
    "subscriptions",
    "exchanges",
    "faq_wiki",
    "dashboards",  # no tables: each role's home page
    "extractions",  # bulk extractions of collected values (files kept a few days)
    "api",  # no tables: the read API (django-ninja) and the platform's OpenAPI document
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]
# The State's design system (templates, template tags, DSFR static files and the Marianne
# font). In neither list on purpose: its one model (a site configuration we do not use) gets
# no table in any schema.
INSTALLED_APPS += ["dsfr"]
# django-ninja (no models): listed so that its interactive docs use the Swagger UI files it
# ships, served from our own host, instead of a CDN.
INSTALLED_APPS += ["ninja"]
# The manifest storage rewrites url() inside the DSFR's CSS, so its published SRI hashes no
# longer match: the files are ours, served from our own host.
DSFR_USE_INTEGRITY_CHECKSUMS = False

TENANT_MODEL = "tenants.Platform"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "harmonia.urls_public"
ROOT_URLCONF = "harmonia.urls_tenant"
# New platforms are cloned from a migrated template schema (~1 s instead of ~8 s each).
TENANT_BASE_SCHEMA = "platform_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Set search_path once per schema switch rather than before every query (halves queries).
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    # a request id on every log line and response (harmonia/logs.py)
    "harmonia.logs.RequestIdMiddleware",
    # /health/ on every host, before the platform is looked up: it answers even when the
    # database does not (tenants/health.py)
    "tenants.health.HealthMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    # HTTPS only, with French answers to plain HTTP (production sets SECURE_SSL_REDIRECT)
    "harmonia.security.HttpsOnlyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "harmonia.security.ContentSecurityPolicyMiddleware",  # see "Security" below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # idle expiry: the session row rewritten at most once a minute (harmonia/sessions.py)
    "harmonia.sessions.SessionIdleRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "harmonia.ratelimit.RateLimitMiddleware",  # see "Security" below
    "axes.middleware.AxesMiddleware",
    "tenants.middleware.PlatformRedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.platform",
                "operations.context_processors.service",
                "harmonia.environment.context",
            ],
        },
    },
]

WSGI_APPLICATION = "harmonia.wsgi.application"

DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Shared cache (several web nodes and workers) -------------------------------------------
# Every process reads the same cache: a table in the public schema (Django's DatabaseCache,
# created by tenants/migrations/0002_cache_table.py; platforms' search_path reaches public), or
# Redis when HARMONIA_CACHE_URL / REDIS_URL names one (the `redis` extra). A per-process cache
# (LocMemCache) would let two nodes disagree: a rate-limit counted on one node only, a
# cached page fragment stale on the other.
HARMONIA_CACHE_URL = os.environ.get("HARMONIA_CACHE_URL") or os.environ.get("REDIS_URL", "")
CACHE_TABLE = "harmonia_cache"
_TENANT_KEYS = {
    # Wagtail caches site root paths: keys must carry the schema or platforms leak.
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
if HARMONIA_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": HARMONIA_CACHE_URL,
            **_TENANT_KEYS,
        }
    }
elif HARMONIA_CACHE_URL == "locmem://":
    # one process only (a benchmark of the shared cache's cost, a one-process tool)
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", **_TENANT_KEYS}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            # culling counts the table on each write past this many entries
            "OPTIONS": {"MAX_ENTRIES": 20_000},
            **_TENANT_KEYS,
        }
    }

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend; a deactivated partner's users neither sign in nor keep a session
    "organisms.backends.PlatformAccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassesValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = int(os.environ.get("HARMONIA_PASSWORD_RESET_SECONDS", 3600))

# Lock-out after repeated failures (django-axes), per platform since its tables are per schema.
AXES_FAILURE_LIMIT = int(os.environ.get("HARMONIA_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("HARMONIA_LOCKOUT_MINUTES", 30)))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# axes.W006 asks for IP-based locks; we lock the account itself (by username), which rotating
# IP addresses or cookies cannot bypass.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Session expiry: idle sessions end after HARMONIA_SESSION_IDLE_MINUTES.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("HARMONIA_SESSION_IDLE_MINUTES", 30))
# The expiry is pushed back by harmonia.sessions at most every HARMONIA_SESSION_REFRESH_SECONDS
# (not SESSION_SAVE_EVERY_REQUEST: one session write per request, per cell saved).
HARMONIA_SESSION_REFRESH_SECONDS = int(os.environ.get("HARMONIA_SESSION_REFRESH_SECONDS", 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# At most this many organisme users per organism, unless a platform sets its own limit.
HARMONIA_MAX_USERS_PER_ORGANISM = int(os.environ.get("HARMONIA_MAX_USERS_PER_ORGANISM", 3))

# --- Running the service (operator's space) ---------------------------------------------------
# The first day of the operator's contract (YYYY-MM-DD): the hotline report counts contacts
# "since the start of the contract" from it; unset, from 1 January of the report's year.
try:
    HARMONIA_CONTRACT_START = (
        date.fromisoformat(os.environ["HARMONIA_CONTRACT_START"])
        if os.environ.get("HARMONIA_CONTRACT_START")
        else None
    )
except ValueError as error:
    raise ImproperlyConfigured(
        "HARMONIA_CONTRACT_START: a date YYYY-MM-DD, e.g. 2025-11-15"
    ) from error
# Who receives the form-integration workload report (the project committee's members).
HARMONIA_PROJECT_COMMITTEE_EMAILS = env_list("HARMONIA_PROJECT_COMMITTEE_EMAILS")
# Person-days a year of form tests and integration included in corrective maintenance.
HARMONIA_FORM_WORK_DAYS = int(os.environ.get("HARMONIA_FORM_WORK_DAYS", 30))

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
# one thousands separator everywhere: Django's integers as the grid's (site/formats/fr)
FORMAT_MODULE_PATH = ["harmonia.formats"]
# corrections to the libraries' French (site/locale/fr/LC_MESSAGES/django.po)
LOCALE_PATHS = [BASE_DIR / "site" / "locale"]

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("HARMONIA_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("HARMONIA_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # bulk extractions (files of up to hundreds of MB, deleted after a few days): not in the
    # database, not in MEDIA_ROOT (so not in backups); shared by the web and worker processes
    "extractions": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("HARMONIA_EXTRACTIONS_ROOT", VAR_DIR / "extractions")
        },
    },
}
# --- Shared media storage (several web nodes) -----------------------------------------------
# Wagtail's images and documents and the bulk extractions must be seen by every web node and
# worker: a directory they all mount (HARMONIA_MEDIA_ROOT, HARMONIA_EXTRACTIONS_ROOT on NFS…),
# or an S3-compatible bucket when HARMONIA_S3_BUCKET is set (django-storages, the `s3` extra;
# credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the host's role). Files are
# private (signed, expiring links) and never overwritten.
HARMONIA_S3_BUCKET = os.environ.get("HARMONIA_S3_BUCKET", "")
if HARMONIA_S3_BUCKET:
    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured(
            "HARMONIA_S3_BUCKET is set but django-storages is not installed "
            "(pip install 'harmonia[s3]')."
        )
    _S3 = {
        "bucket_name": HARMONIA_S3_BUCKET,
        "endpoint_url": os.environ.get("HARMONIA_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("HARMONIA_S3_REGION") or None,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_S3, "location": "media"},
    }
    STORAGES["extractions"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_S3, "location": "extractions"},
    }
# how long a bulk extraction's file is kept before it is deleted
HARMONIA_EXTRACTION_DAYS = int(os.environ.get("HARMONIA_EXTRACTION_DAYS", 7))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Organism registry files (CSV/XLSX) larger than this are refused before parsing.
HARMONIA_REGISTRY_MAX_BYTES = int(os.environ.get("HARMONIA_REGISTRY_MAX_BYTES", 5 * 1024 * 1024))
HARMONIA_FORM_MAX_BYTES = int(os.environ.get("HARMONIA_FORM_MAX_BYTES", 50 * 1024 * 1024))
HARMONIA_ATTACHMENT_MAX_BYTES = int(os.environ.get("HARMONIA_ATTACHMENT_MAX_BYTES", 10 * 1024**2))

# --- E-mail ---------------------------------------------------------------------------------
# Every e-mail is sent by a background job (see tenants/jobs.py) through harmonia.mail's
# backend, which applies the environment (subject prefix, catch-all address outside
# production) and hands the message to HARMONIA_EMAIL_BACKEND, the real one (EMAIL_BACKEND in
# the environment). Every sender goes through it: none can forget the rule.
EMAIL_BACKEND = "harmonia.mail.EnvironmentEmailBackend"
HARMONIA_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Harmonia <ne-pas-repondre@harmonia.localhost>"
)

# --- Background work (procrastinate, PostgreSQL-backed) -------------------------------------
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# A worker that starts up to 3 days after a periodic job's time (service down on the 1st)
# still queues it; the monthly reports job skips what is already done, so a late run is safe.
PROCRASTINATE_PERIODIC_DEFAULTS = {"max_delay": 3 * 24 * 3600}
# Each uploaded form version is recalculated by the `formulas` package in a job and compared
# with our engine (forms_cms/second_opinion.py): about 1.5 minutes of a worker for an ER-sized
# workbook. HARMONIA_SECOND_OPINION=0 turns it off.
HARMONIA_SECOND_OPINION = env_bool("HARMONIA_SECOND_OPINION", default=True)

# --- Wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Harmonia"
WAGTAILADMIN_BASE_URL = os.environ.get(
    "WAGTAILADMIN_BASE_URL", f"http://{HARMONIA_BASE_DOMAIN}:8000"
)
WAGTAIL_I18N_ENABLED = False
# Wagtail's own e-mails build links from the single WAGTAILADMIN_BASE_URL, which cannot name
# each platform's host: its password reset is off (the platform's own, /comptes/, sends links
# from tenants.links), the admin signs in through the platform's sign-in (lock-out and
# password rules included), and the moderation workflows and comments, unused here, are off
# so that they send nothing either.
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAILADMIN_LOGIN_URL = "accounts:login"
WAGTAIL_WORKFLOW_ENABLED = False
WAGTAILADMIN_COMMENTS_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("fr", "Français")]
# No page may call an outside service: no Gravatar avatars in the admin.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database", "SEARCH_CONFIG": "french"}
}
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "xlsx", "xsd", "odt", "ods", "zip", "csv", "xml"]

# --- Security (headers are production's; the limits apply everywhere) ----------------------
# Content-Security-Policy (django-csp), in every environment so that tests and `make run` meet
# it: no inline script or style anywhere but Wagtail's admin (site/security.py).
# Everything from our own host, no plug-in, no framing; `data:` for the small images and
# fonts CSS embeds (DSFR icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
HARMONIA_CSP_ADMIN_PREFIXES = ["/cms/"]
# Wagtail documents go through Wagtail's view, where faq_wiki's before_serve_document hook asks
# for a signed-in user of the platform, never through a direct URL to the storage.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Rate limits, "<requests>/<seconds>" per identity, counted in the shared cache
# (site/ratelimit.py); 0 requests turns one off. Over the limit: 429, nothing done.
HARMONIA_RATELIMIT_CACHE = "default"
HARMONIA_RATE_LIMITS = {
    "login_ip": os.environ.get("HARMONIA_RATE_LOGIN_IP", "30/300"),
    "login_username": os.environ.get("HARMONIA_RATE_LOGIN_USERNAME", "10/300"),
    "password_reset_ip": os.environ.get("HARMONIA_RATE_PASSWORD_RESET_IP", "10/3600"),
    "password_reset_email": os.environ.get("HARMONIA_RATE_PASSWORD_RESET_EMAIL", "3/3600"),
    "api_token": os.environ.get("HARMONIA_RATE_API_TOKEN", "120/60"),
    "api_ip": os.environ.get("HARMONIA_RATE_API_IP", "600/60"),
    "api_anonymous": os.environ.get("HARMONIA_RATE_API_ANONYMOUS", "60/60"),
}
# Reverse proxies in front of Django that append to X-Forwarded-For (nginx: 1); 0 trusts
# REMOTE_ADDR alone. The rate limits per address count the address the proxies saw.
HARMONIA_PROXY_COUNT = int(os.environ.get("HARMONIA_PROXY_COUNT", 0))

# Security supervision: a partner user's reads in the last hour are unusual from this many on,
# and when above FACTOR times their usual hourly rate (the previous 28 days)
HARMONIA_PARTNER_READS_MIN = int(os.environ.get("HARMONIA_PARTNER_READS_MIN", 200))
HARMONIA_PARTNER_READS_FACTOR = float(os.environ.get("HARMONIA_PARTNER_READS_FACTOR", 5))

# --- Logs (harmonia/logs.py) ----------------------------------------------------------------
# Every line carries the platform (schema), the user id and the request id (X-Request-ID, from
# the proxy or made here); HARMONIA_LOG_FORMAT=json writes one JSON object per line
# (production's default), text otherwise.
HARMONIA_LOG_FORMAT = os.environ.get("HARMONIA_LOG_FORMAT", "text")
LOG_QUIET = {
    # Wagtail's in-process tasks and the embedded server log every step at INFO.
    "django.tasks": "WARNING",
    "django_tasks": "WARNING",
    "wagtail": "WARNING",
    "pgserver": "WARNING",
    "procrastinate.blueprints": "WARNING",
    # registering the periodic jobs is logged by every manage.py command that loads them
    "procrastinate.periodic": "WARNING",
    # WeasyPrint logs each layout step (hundreds of lines per PDF)
    "weasyprint": "WARNING",
    "fontTools": "WARNING",
}
LOGGING = logging_config(HARMONIA_LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"), LOG_QUIET)
