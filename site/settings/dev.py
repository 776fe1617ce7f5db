"""Local development and `make run`: embedded database, e-mails written to var/mail."""

import os

from .base import *  # noqa: F403
from .base import HARMONIA_BASE_PORT, VAR_DIR

DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "dev-only-insecure-key-change-me-in-production"
HARMONIA_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
HARMONIA_ENVIRONMENT = os.environ.get("HARMONIA_ENVIRONMENT", "development").strip().lower()
# every e-mail of a development machine goes to one address (written to var/mail)
HARMONIA_RECETTE_MAIL_TO = (
    os.environ.get("HARMONIA_RECETTE_MAIL_TO", "").strip() or "recette@harmonia.localhost"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
# `make run` serves on :8000: links in e-mails carry it unless the base domain names a port
HARMONIA_BASE_PORT = HARMONIA_BASE_PORT or "8000"
