"""Sign-in, lock-out, password reset by e-mail, password rules and session expiry."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from accounts.models import Role, User
from accounts.validators import CHARACTER_CLASSES_MESSAGE
from tests.conftest import run_queued_jobs

pytestmark = pytest.mark.django_db

PASSWORD = "Un-Mot-De-Passe-Solide-42"
NEW_PASSWORD = "Encore-Plus-Solide-2025!"


@pytest.fixture
def oph_user(platforms):
    with schema_context("oph"):
        return User.objects.create_user(
            username="claire.martin",
            email="claire.martin@example.org",
            password=PASSWORD,
            role=Role.GESTIONNAIRE,
        )


def login(client, password):
    return client.post("/comptes/connexion/", {"username": "claire.martin", "password": password})


def test_account_locked_after_repeated_failures(client_for, oph_user, settings):
    client = client_for("oph")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "mauvais")
        assert "Identifiant ou mot de passe incorrect" in response.content.decode()
    locked = login(client, "mauvais")
    assert locked.status_code == 429
    assert "temporairement verrouillé" in locked.content.decode()

    # Even the right password is refused while locked, from another browser too.
    again = login(client_for("oph"), PASSWORD)
    assert again.status_code == 429
    # The lock is per platform: the same user name elsewhere is unaffected.
    with schema_context("esh"):
        User.objects.create_user(
            username="claire.martin", email="c@example.org", password=PASSWORD, role="organisme"
        )
    assert login(client_for("esh"), PASSWORD).status_code == 302


def test_successful_login_resets_the_failure_count(client_for, oph_user, settings):
    client = client_for("oph")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "mauvais")
    assert login(client, PASSWORD).status_code == 302
    client.post("/comptes/deconnexion/")
    assert login(client_for("oph"), "mauvais").status_code == 200


def test_password_reset_email_link_works_once(client_for, oph_user):
    client = client_for("oph")
    response = client.post("/comptes/mot-de-passe/oubli/", {"email": "claire.martin@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []  # queued, not sent inline
    assert run_queued_jobs() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire.martin@example.org"]
    assert "réinitialisation" in message.subject
    assert "Fédération des OPH" in message.subject
    link = re.search(r"http://oph\.localhost(/comptes/mot-de-passe/nouveau/\S+/)", message.body)
    assert link, message.body
    path = link.group(1)

    form_page = client.get(path, follow=True)
    assert "Choisissez un nouveau mot de passe" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302

    assert login(client_for("oph"), NEW_PASSWORD).status_code == 302
    reused = client_for("oph").get(path, follow=True)
    assert "Lien invalide" in reused.content.decode()


def test_password_reset_for_unknown_address_sends_nothing(client_for, oph_user):
    client = client_for("esh")  # the address belongs to an oph account only
    client.post("/comptes/mot-de-passe/oubli/", {"email": "claire.martin@example.org"})
    run_queued_jobs()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Court-1!", "au minimum 12 caractères"),
        ("motdepasse-sans-majuscule-1", CHARACTER_CLASSES_MESSAGE),
        ("123456789012345", "entièrement numérique"),
    ],
)
def test_weak_passwords_are_refused(password, fragment):
    with pytest.raises(ValidationError) as error:
        validate_password(password)
    assert any(fragment in message for message in error.value.messages)


def test_strong_password_is_accepted():
    validate_password(NEW_PASSWORD)


def test_session_expires_when_idle(client_for, oph_user, settings):
    client = client_for("oph")
    login(client, PASSWORD)
    assert client.get("/").status_code == 200
    with schema_context("oph"):
        session = client.session
        assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE <= 60 * 60
        session.set_expiry(-1)
        session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")


def test_an_active_session_is_refreshed_once_a_minute_not_at_every_request(
    client_for, oph_user, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from harmonia.sessions import TOUCHED  # noqa: I001 - first-party, as `harmonia`

    client = client_for("oph")
    login(client, PASSWORD)

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return sum(q["sql"].startswith('UPDATE "django_session"') for q in queries)

    # signing in stamped it: within the minute, no write
    assert session_writes() == 0
    assert session_writes() == 0
    with schema_context("oph"):
        session = client.session
        session[TOUCHED] -= settings.HARMONIA_SESSION_REFRESH_SECONDS
        session.save()
    assert session_writes() == 1  # a minute later: the expiry is pushed back
    with schema_context("oph"):
        assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_logout_ends_the_session(client_for, demo_user):
    client = client_for("epl", demo_user("epl", "gestionnaire"))
    assert client.get("/").status_code == 200
    client.post("/comptes/deconnexion/")
    assert client.get("/").status_code == 302


def test_the_cms_signs_in_and_resets_passwords_through_the_platform(client_for):
    """Wagtail's own sign-in and password reset would bypass the lock-out and send links on
    one host for every platform: the CMS sends people to the platform's sign-in, and its
    password reset does not exist."""
    client = client_for("oph")
    response = client.get("/cms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/?next=/cms/")
    reset = client.post("/cms/password_reset/", {"email": "gestionnaire@oph.example"})
    assert reset.status_code == 404
    assert mail.outbox == []
