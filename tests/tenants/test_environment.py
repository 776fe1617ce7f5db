"""Production, test platform (« recette »), development: the banner on every page, the
e-mails (subject prefix, one catch-all address) and no automatic transmission to partners
outside production."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django_tenants.utils import schema_context

from operations import services as operations
from operations.models import Correspondent
from subscriptions.models import Scope
from subscriptions.services import subscription_create
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from tests.helpers import fire, transmit
from tests.partners.conftest import dossier, gestionnaire  # noqa: F401
from tests.subscriptions.test_subscriptions import home, publish_child

pytestmark = pytest.mark.django_db

CATCH_ALL = "boite-recette@exemple.fr"
ROOT = Path(__file__).resolve().parents[2]


def recette(**extra):
    """The test platform's settings, with the project's mail backend in front of the
    in-memory one (pytest-django replaces EMAIL_BACKEND by the in-memory backend)."""
    values = {
        "HARMONIA_ENVIRONMENT": "recette",
        "EMAIL_BACKEND": "harmonia.mail.EnvironmentEmailBackend",
        "HARMONIA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "HARMONIA_RECETTE_MAIL_TO": CATCH_ALL,
    }
    return override_settings(**{**values, **extra})


# --- banner ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "text"),
    [
        ("recette", "Plateforme de recette (tests)"),
        ("development", "Environnement de développement"),
        ("production", None),
    ],
)
def test_every_page_says_which_environment_it_is(client_for, demo_user, env, text):
    pages = [
        ("dhup", None, "/comptes/connexion/"),
        ("oph", demo_user("oph", "gestionnaire"), "/"),
        ("public", None, "/"),
        ("public", demo_user("public", "hotline"), "/operateur/anomalies/"),
    ]
    with override_settings(HARMONIA_ENVIRONMENT=env):
        for code, user, path in pages:
            page = client_for(code, user).get(path).content.decode()
            assert ('data-testid="environment-banner"' in page) is (text is not None), path
            if text:
                assert text in page and "fr-notice--warning" in page


# --- e-mails ---------------------------------------------------------------------------------


def test_every_email_sent_on_the_test_platform_goes_to_the_catch_all_with_the_prefix(
    dossier,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,  # noqa: F811
    demo_user,
    client_for,
):
    """E-mails of every kind — queued by the lifecycle (transmission, receipt, hand back),
    the operator (anomaly notices), an account's password reset, and the subscriptions'
    digests, which send directly — all reach the catch-all address only, prefixed."""
    editeur = demo_user("oph", "editeur")
    with recette():
        mail.outbox.clear()
        transmit(dossier, declarant)
        fire(dossier, "hand_back", gestionnaire, comment="Merci de corriger le capital.")
        Correspondent.objects.create(name="Alice", email="alice@example.org")
        operations.anomaly_create(
            by=demo_user("public", "hotline"),
            short_description=" ".join(["mot"] * 25),
            severity="major",
            found_on=date(2026, 3, 1),
            reporter="Hotline",
            platforms=["oph"],
        )
        reset = client_for("oph").post("/comptes/mot-de-passe/oubli/", {"email": editeur.email})
        assert reset.status_code == 302
        with schema_context("oph"):
            subscription_create(user=editeur, scope=Scope.WIKI)
            publish_child(home(), "Calendrier de la campagne")
        run_queued_jobs()
        sent = list(mail.outbox)
    subjects = " | ".join(m.subject for m in sent)
    for expected in (
        "Dossier transmis",
        "Accusé de réception",
        "La main vous est rendue",
        "nouvelle anomalie",
        "réinitialisation de votre mot de passe",
        "mise à jour sur la plateforme",  # the subscriptions' digest, sent directly
    ):
        assert expected.lower() in subjects.lower(), subjects
    originals = set()
    for message in sent:
        assert message.subject.startswith("[RECETTE] "), message.subject
        assert message.to == [CATCH_ALL] and message.cc == [] and message.bcc == []
        original = message.extra_headers["X-Harmonia-Original-To"]
        assert message.body.startswith(f"[RECETTE] Destinataires d'origine : {original}")
        originals |= set(original.split(", "))
    # the real recipients were named, never written to
    assert {declarant.email, editeur.email, "alice@example.org"} <= originals


def test_without_a_catch_all_address_nothing_is_sent_outside_production():
    from django.core.mail import EmailMessage

    with recette(HARMONIA_RECETTE_MAIL_TO=""):
        mail.outbox.clear()
        assert EmailMessage("Objet", "Texte", to=["personne@example.org"]).send() == 0
        assert mail.outbox == []


def test_production_sends_unchanged():
    from django.core.mail import EmailMessage

    with recette(HARMONIA_ENVIRONMENT="production"):
        mail.outbox.clear()
        EmailMessage("Objet", "Texte", to=["personne@example.org"]).send()
        (message,) = mail.outbox
    assert (message.subject, message.to, message.body) == (
        "Objet",
        ["personne@example.org"],
        "Texte",
    )


def test_no_sender_goes_around_the_mail_backend():
    """Every e-mail goes through Django's EMAIL_BACKEND (the environment's backend): no
    module opens another connection, names a backend or speaks SMTP itself."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or path.name == "mail.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(n in ("smtplib", "get_connection") for n in names):
                    offenders.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Call) and any(k.arg == "connection" for k in node.keywords):
                func = ast.unparse(node.func)
                if "Email" in func or "mail" in func:
                    offenders.append(f"{path}:{node.lineno} {func}")
    assert offenders == []


# --- partners --------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [("recette", 0), ("production", 3)])
def test_automatic_transmissions_only_in_production(
    dossier,  # noqa: F811
    declarant,  # noqa: F811
    env,
    expected,
):
    from partners.models import Transmission

    with recette(HARMONIA_ENVIRONMENT=env):
        change = transmit(dossier, declarant)  # 4.1: CDC, CGLLS, ANCOLS on the ministry's rules
    with schema_context("dhup"):
        assert Transmission.objects.filter(step_change=change).count() == expected
