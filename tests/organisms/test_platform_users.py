"""Gestionnaires create and deactivate the accounts of their platform."""

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import User
from organisms.models import Organism
from tests.conftest import run_queued_jobs

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "username": "nouvel.utilisateur",
        "first_name": "Nina",
        "last_name": "Nouvelle",
        "email": "nina@example.org",
        "role": "organisme",
        "organism_siren": "",
        "partner": "",
    }
    return {**data, **overrides}


def test_gestionnaire_creates_an_organisme_account_who_chooses_a_password(client_for, demo_user):
    with schema_context("esh"):
        organism = Organism.objects.exclude(memberships__isnull=False).first()
    client = client_for("esh", demo_user("esh", "gestionnaire"))
    response = client.post("/organismes/comptes/nouveau/", form_data(organism_siren=organism.siren))
    assert response.status_code == 302
    with schema_context("esh"):
        user = User.objects.get(username="nouvel.utilisateur")
        assert user.membership.organism == organism
        assert not user.has_usable_password()
    with schema_context("oph"):
        assert not User.objects.filter(username="nouvel.utilisateur").exists()

    assert run_queued_jobs() == 1
    (message,) = mail.outbox
    assert message.to == ["nina@example.org"]
    assert "votre compte est créé" in message.subject
    path = re.search(r"http://esh\.localhost(/comptes/mot-de-passe/nouveau/\S+/)", message.body)
    page = client_for("esh").get(path.group(1), follow=True)
    assert "Choisissez un nouveau mot de passe" in page.content.decode()


def test_fourth_account_of_an_organism_is_refused_and_nothing_saved(client_for, demo_user):
    organism = demo_user("oph", "organisme").membership.organism  # has 2 demo accounts
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    ok = client.post(
        "/organismes/comptes/nouveau/",
        form_data(username="troisieme", email="t@example.org", organism_siren=organism.siren),
    )
    assert ok.status_code == 302
    refused = client.post(
        "/organismes/comptes/nouveau/",
        form_data(username="quatrieme", email="q@example.org", organism_siren=organism.siren),
    )
    assert refused.status_code == 200
    assert "déjà 3 comptes utilisateurs" in refused.content.decode()
    with schema_context("oph"):
        assert not User.objects.filter(username="quatrieme").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"organism_siren": "999999999"}, "Aucun organisme de SIREN 999999999"),
        ({"organism_siren": ""}, "doit être rattaché à un organisme"),
        ({"username": "gestionnaire"}, "déjà utilisé sur cette plateforme"),
        ({"role": "partenaire"}, "doit être rattaché à un partenaire"),
    ],
)
def test_bad_account_forms_name_the_problem(client_for, demo_user, overrides, message):
    client = client_for("coop", demo_user("coop", "gestionnaire"))
    with schema_context("coop"):
        before = User.objects.count()
    response = client.post("/organismes/comptes/nouveau/", form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context("coop"):
        assert User.objects.count() == before


def test_deactivated_account_cannot_sign_in(client_for, demo_user):
    target = demo_user("epl", "editeur")
    client = client_for("epl", demo_user("epl", "gestionnaire"))
    assert "editeur" in client.get("/organismes/comptes/").content.decode()
    client.post(f"/organismes/comptes/{target.pk}/activation/", {"active": "0"})
    with schema_context("epl"):
        target.refresh_from_db()
        assert not target.is_active
        target.set_password("Un-Mot-De-Passe-Solide-42")
        target.save()
    refused = client_for("epl").post(
        "/comptes/connexion/", {"username": "editeur", "password": "Un-Mot-De-Passe-Solide-42"}
    )
    assert refused.status_code == 200


def test_the_holder_is_told_when_the_account_is_suspended_and_restored(client_for, demo_user):
    target = demo_user("epl", "editeur")
    client = client_for("epl", demo_user("epl", "gestionnaire"))
    run_queued_jobs()
    mail.outbox.clear()
    client.post(f"/organismes/comptes/{target.pk}/activation/", {"active": "0"})
    run_queued_jobs()
    (suspended,) = mail.outbox
    assert suspended.to == [target.email]
    assert "votre compte est suspendu" in suspended.subject
    assert f"Votre compte Harmonia ({target.username}) a été suspendu :" in suspended.body
    # suspending it again changes nothing and sends nothing
    client.post(f"/organismes/comptes/{target.pk}/activation/", {"active": "0"})
    assert run_queued_jobs() == 0
    mail.outbox.clear()
    client.post(f"/organismes/comptes/{target.pk}/activation/", {"active": "1"})
    run_queued_jobs()
    (restored,) = mail.outbox
    assert restored.to == [target.email] and "votre compte est rétabli" in restored.subject
    assert "/comptes/connexion/" in restored.body and "&#x27;" not in restored.body


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "editeur"])
def test_only_gestionnaires_manage_accounts(client_for, demo_user, username):
    client = client_for("dhup", demo_user("dhup", username))
    assert client.get("/organismes/comptes/").status_code == 403
    assert client.post("/organismes/comptes/nouveau/", form_data()).status_code == 403
    target = demo_user("dhup", "organisme2")
    assert (
        client.post(f"/organismes/comptes/{target.pk}/activation/", {"active": "0"}).status_code
        == 403
    )
