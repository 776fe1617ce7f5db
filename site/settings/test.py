"""Test settings: fast password hashing, in-memory mail, no manifest for static files."""

from .base import *  # noqa: F403

SECRET_KEY = "test-only-secret-key"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HARMONIA_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The suite runs the production behaviour (automatic transmissions, real recipients); the
# tests of the other environments override it (tests/tenants/test_environment.py).
HARMONIA_ENVIRONMENT = "production"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "extractions": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "test-extractions"},  # noqa: F405
    },
}
# WhiteNoise warns (an error under pytest) when STATIC_ROOT is missing; tests never collect.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Uploads in tests queue no second opinion (it would run `formulas` in every test that runs the
# queued jobs); tests/forms_cms/test_second_opinion.py turns it on.
HARMONIA_SECOND_OPINION = False
