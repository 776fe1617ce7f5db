"""Every link an e-mail carries is absolute, on the right host, and opens a real page.

Links come from one place (``tenants.links.absolute_url``): the platform's primary host name,
never the host a request came through. The e-mails the platform sends, each triggered here
and delivered by running the queued jobs as the worker would:

- lifecycle: « Dossier transmis » to the gestionnaires, « La main vous est rendue » to the
  organism (workflow/services/lifecycle.py);
- exchange space: a new message to the other side (exchanges/services.py);
- partners: « Document transmis » to the partner's users (partners/services.py);
- declarations: the « Accusé de réception » of a transmission to the organism's users, linking
  to the PDF frozen then (declarations/receipts/services.py; tests/declarations/test_receipts.py);
- accounts: the new platform account's link to choose a password (organisms/services/
  memberships.py) and the password reset (accounts/forms.py), on a platform;
- subscriptions: the digest of published pages (wiki) and of a new form version (editors),
  with their unsubscribe and management links and the List-Unsubscribe header;
- operator (public host): the correspondent's new account and a password reset there, the
  anomaly notices (creation and change), the release notice and the maintenance notice
  (also sent to platforms' gestionnaires, from the operator: public host).

The monthly activity reports and the hotline log send no e-mail.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import resolve
from django.utils import timezone
from django_tenants.utils import schema_context

from operations import services as operations
from operations.models import Correspondent, Release
from subscriptions.models import Scope
from subscriptions.services import subscription_create
from tenants.links import NoPlatformHost, absolute_url
from tenants.models import Domain, Platform
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload
from tests.helpers import fire
from tests.subscriptions.test_subscriptions import home, publish_child
from tests.workflow.test_lifecycle import dossier  # noqa: F401

pytestmark = pytest.mark.django_db

PLATFORM_URLCONF = settings.ROOT_URLCONF
PUBLIC_URLCONF = settings.PUBLIC_SCHEMA_URLCONF
ABSOLUTE = re.compile(r"[a-z][a-z0-9+.-]*://[^\s<>\"']+", re.IGNORECASE)
# a path standing alone (after a space, a quote, "=" or ":"), as the old relative link was
RELATIVE = re.compile(r"(?:^|(?<=[\s\"'=(<:]))/[\w\-.~%/?=&#]+", re.MULTILINE)


def texts(message) -> list[str]:
    """The text body, the HTML alternatives and the List-Unsubscribe header."""
    found = [message.body]
    found += [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    found.append(message.extra_headers.get("List-Unsubscribe", ""))
    return found


def links(message) -> list[str]:
    return [url.rstrip(".,;)>") for text in texts(message) for url in ABSOLUTE.findall(text)]


def relative_paths(message) -> list[str]:
    return [path for text in texts(message) for path in RELATIVE.findall(ABSOLUTE.sub("", text))]


def primary_host(code: str) -> str:
    schema = "public" if code == "public" else code
    return Domain.objects.get(tenant__schema_name=schema, is_primary=True).domain


def checked_links(message, code: str) -> list[str]:
    """The view names the message's links open; fails on any link not absolute, not on
    ``code``'s host (the public host for "public"), or that the host's URL conf does not
    resolve."""
    assert relative_paths(message) == [], message.body
    urlconf = PUBLIC_URLCONF if code == "public" else PLATFORM_URLCONF
    views = []
    for url in links(message):
        parts = urlsplit(url)
        assert parts.scheme == "http", url  # the test settings' scheme
        assert parts.netloc == primary_host(code), url
        views.append(resolve(parts.path, urlconf=urlconf).view_name)  # Resolver404 fails
    return views


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if address.lower() in [a.lower() for a in m.to]]


def alias_host(code: str) -> str:
    """A second, non-primary host name of the platform: requests come through it, links must
    not."""
    host = f"autre-nom.{primary_host(code)}"
    Domain.objects.create(
        domain=host, tenant=Platform.objects.get(schema_name=code), is_primary=False
    )
    return host


# --- the function itself --------------------------------------------------------------------


def test_absolute_url_uses_the_platform_host_the_scheme_and_the_base_domain_port(platforms):
    with schema_context("oph"):
        assert absolute_url("/echanges/") == f"http://{primary_host('oph')}/echanges/"
    # the public schema's links go to the public host
    assert absolute_url("/operateur/") == f"http://{primary_host('public')}/operateur/"
    assert absolute_url("/x/", platform=platforms["esh"]) == f"http://{primary_host('esh')}/x/"
    with override_settings(HARMONIA_BASE_PORT="8000"):
        assert absolute_url("/x/", platform=platforms["esh"]).startswith(
            f"http://{primary_host('esh')}:8000/"
        )
    with override_settings(HARMONIA_LINK_SCHEME="https", HARMONIA_BASE_PORT="443"):
        assert absolute_url("/x/", platform=platforms["esh"]) == f"https://{primary_host('esh')}/x/"
    with pytest.raises(ValueError, match="starting with '/'"):
        absolute_url("echanges/")
    Domain.objects.filter(tenant=platforms["epl"]).update(is_primary=False)
    with pytest.raises(NoPlatformHost):
        absolute_url("/", platform=platforms["epl"])


# --- platform e-mails -----------------------------------------------------------------------


def test_transmission_hand_back_and_partner_notices_link_to_the_dossier(
    dossier,
    declarant,  # noqa: F811
    demo_user,
):
    gestionnaire = demo_user("dhup", "gestionnaire")
    partner_user = demo_user("dhup", "partenaire-cdc")
    fire(dossier, "validate", declarant)
    mail.outbox.clear()
    fire(dossier, "transmit", declarant)
    run_queued_jobs()
    (transmitted,) = [m for m in sent_to(gestionnaire.email) if "Dossier transmis" in m.subject]
    assert checked_links(transmitted, "dhup") == ["declarations:dossier"]
    assert f"/declarations/dossiers/{dossier.pk}/" in transmitted.body
    (to_partner,) = [m for m in sent_to(partner_user.email) if "Document transmis" in m.subject]
    assert checked_links(to_partner, "dhup") == ["partners:detail"]

    mail.outbox.clear()
    fire(dossier, "hand_back", gestionnaire, comment="Capital à justifier")
    run_queued_jobs()
    (handed_back,) = sent_to(declarant.email)
    assert "La main vous est rendue" in handed_back.subject
    assert checked_links(handed_back, "dhup") == ["declarations:dossier"]


def test_exchange_message_links_to_the_thread_whatever_host_it_was_posted_through(
    dossier,
    client_for,
    demo_user,
    declarant,  # noqa: F811
):
    host = alias_host("dhup")
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    mail.outbox.clear()
    response = client.post(
        f"/echanges/dossiers/{dossier.pk}/", {"body": "Il manque l'annexe"}, HTTP_HOST=host
    )
    assert response.status_code == 302
    run_queued_jobs()
    (message,) = sent_to(declarant.email)
    assert checked_links(message, "dhup") == ["exchanges:thread"]


def test_new_platform_account_link_is_on_the_platform_host(client_for, demo_user):
    host = alias_host("esh")
    with schema_context("esh"):
        from organisms.models import Organism

        organism = Organism.objects.exclude(memberships__isnull=False).first()
    client = client_for("esh", demo_user("esh", "gestionnaire"))
    mail.outbox.clear()
    response = client.post(
        "/organismes/comptes/nouveau/",
        {
            "username": "nouvel.utilisateur",
            "first_name": "Nina",
            "last_name": "Nouvelle",
            "email": "nina@example.org",
            "role": "organisme",
            "organism_siren": organism.siren,
            "partner": "",
        },
        HTTP_HOST=host,
    )
    assert response.status_code == 302
    run_queued_jobs()
    (welcome,) = sent_to("nina@example.org")
    assert checked_links(welcome, "esh") == ["accounts:password_reset_confirm"]
    assert f"créé pour vous sur {primary_host('esh')}" in welcome.body


@pytest.mark.parametrize("code", ["oph", "public"])
def test_password_reset_link_is_on_the_primary_host_not_the_request_host(
    code, client_for, demo_user
):
    user = demo_user(code, "gestionnaire" if code == "oph" else "cglls")
    host = alias_host(code)
    mail.outbox.clear()
    response = client_for(code).post(
        "/comptes/mot-de-passe/oubli/", {"email": user.email}, HTTP_HOST=host
    )
    assert response.status_code == 302
    run_queued_jobs()
    (reset,) = sent_to(user.email)
    assert checked_links(reset, code) == ["accounts:password_reset_confirm"]
    assert host not in reset.body


def test_subscription_digests_link_pages_versions_and_unsubscribing(demo_user):
    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        subscription_create(user=editeur, scope=Scope.WIKI)
        publish_child(home(), "Calendrier de la campagne")
    mail.outbox.clear()
    run_queued_jobs()
    (digest,) = sent_to(editeur.email)
    views = checked_links(digest, "oph")
    assert sorted(views) == sorted(
        ["wagtail_serve", "subscriptions:unsubscribe", "subscriptions:unsubscribe"]
        + ["subscriptions:manage"]
    )  # the unsubscribe link twice: in the body and in the List-Unsubscribe header
    assert "/calendrier-de-la-campagne/" in digest.body

    dhup_editor = demo_user("dhup", "editeur")
    with schema_context("dhup"):
        subscription_create(user=dhup_editor, scope=Scope.EDITORS)
    upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "gestionnaire"))
    mail.outbox.clear()
    run_queued_jobs()
    (digest,) = sent_to(dhup_editor.email)
    views = checked_links(digest, "dhup")
    assert views.count("forms_cms:version_detail") == 1
    assert views.count("forms_cms:version_file") == 2  # the XSD and the specification file
    assert "subscriptions:manage" in views


# --- the operator's e-mails (public host) ---------------------------------------------------


def test_correspondent_account_link_is_on_the_public_host(client_for, demo_user):
    hotline = client_for("public", demo_user("public", "hotline"))
    host = alias_host("public")
    mail.outbox.clear()
    response = hotline.post(
        "/operateur/correspondants/",
        {
            "name": "Sophie Leroy",
            "email": "sophie.leroy@fede-oph.example.fr",
            "platforms": ["oph"],
            "tracker_access": "on",
            "active": "on",
        },
        HTTP_HOST=host,
    )
    assert response.status_code == 302
    run_queued_jobs()
    (welcome,) = sent_to("sophie.leroy@fede-oph.example.fr")
    assert checked_links(welcome, "public") == ["accounts:password_reset_confirm"]


def test_anomaly_release_and_maintenance_notices_carry_no_relative_link(demo_user):
    Correspondent.objects.create(name="Alice", email="alice@example.org")
    hotline = demo_user("public", "hotline")
    mail.outbox.clear()
    anomaly = operations.anomaly_create(
        by=hotline,
        short_description=" ".join(["mot"] * 25),
        severity="major",
        found_on=date(2026, 3, 1),
        reporter="M. Dupont, OPH de l'Ain, par téléphone",
        platforms=["oph"],
    )
    operations.anomaly_change(anomaly, by=hotline, status="acknowledged")
    release = Release.objects.create(number="9.9.9", date=date(2026, 3, 2), corrections="")
    operations.release_publish(release)
    soon = timezone.now() + timedelta(days=3)
    window = operations.maintenance_request(
        by=hotline,
        platforms=["esh"],
        reason="Montée de version",
        starts_at=soon,
        ends_at=soon + timedelta(hours=3),
    )
    operations.maintenance_decide(window, by=demo_user("public", "cglls"), approve=True)
    run_queued_jobs()
    subjects = {m.subject.split(" — ")[0] for m in sent_to("alice@example.org")}
    assert {f"[Harmonia] {anomaly.number}", "[Harmonia] Version 9.9.9 publiée"} <= subjects
    gestionnaire = demo_user("esh", "gestionnaire")
    notices = sent_to("alice@example.org") + sent_to(gestionnaire.email)
    assert len(notices) == 5  # two anomaly notices, the release, maintenance twice
    for message in notices:
        checked_links(message, "public")
