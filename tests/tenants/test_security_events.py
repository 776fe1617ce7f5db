"""Security events: every source records its event into the public schema through
``tenants.security_events`` (one INSERT), never breaking the request that triggers it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from declarations.services.imports import dossier_import_xml
from fixtures import hostile_uploads as hostile
from forms_cms.xmlformat import XmlImportRefused
from organisms.services import RegistryFileError, registry_file_parse
from partners.models import AccessLog
from partners.services import partner_reads_unusual_record
from tenants.dbaccess import grant_readonly, revoke_readonly
from tenants.models import SecurityEvent
from tenants.security_events import security_event_record
from tests.accounts.test_auth import PASSWORD, login, oph_user  # noqa: F401
from tests.api.test_read_api import get, key_of
from tests.declarations.test_online_form import declarant, version  # noqa: F401
from tests.declarations.test_xml import dossier  # noqa: F401

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


def events(kind):
    with schema_context("public"):
        return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


def test_one_insert_into_public_from_a_platform(platforms):
    with schema_context("oph"), CaptureQueriesContext(connection) as queries:
        event = security_event_record(Kind.LOGIN_FAILED, username="x", detail="essai")
    assert event is not None
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # one INSERT; inside the test's transaction, in a savepoint (and django-tenants' search
    # path set once for the schema): no read, no other write
    assert statements.count("INSERT") == 1
    assert set(statements) <= {"INSERT", "SAVEPOINT", "RELEASE", "SET"}, statements
    # the public schema holds the table; no platform schema has one
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'tenants_securityevent'"
        )
        assert [row[0] for row in cursor.fetchall()] == ["public"]
    [stored] = events(Kind.LOGIN_FAILED)
    assert (stored.platform, stored.username, stored.detail) == ("oph", "x", "essai")


def test_a_failed_insert_never_breaks_the_callers_transaction(platforms, monkeypatch):
    monkeypatch.setattr(SecurityEvent._meta, "db_table", "no_such_table")
    with schema_context("oph"), transaction.atomic():
        assert security_event_record(Kind.LOGIN_FAILED, detail="perdu") is None
        # the caller's transaction goes on
        assert User.objects.filter(role=Role.GESTIONNAIRE).exists()


def test_failed_sign_ins_then_the_lock_out(client_for, oph_user, settings):  # noqa: F811
    client = client_for("oph")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "mauvais")
    failed = events(Kind.LOGIN_FAILED)
    assert len(failed) == settings.AXES_FAILURE_LIMIT
    assert {(e.platform, e.username, e.ip) for e in failed} == {
        ("oph", "claire.martin", "127.0.0.1")
    }
    assert all("mauvais" not in e.detail for e in failed)  # never the password
    [locked] = events(Kind.LOCKOUT)
    assert locked.username == "claire.martin"
    assert f"après {settings.AXES_FAILURE_LIMIT} échecs" in locked.detail
    # a good sign-in records nothing
    assert login(client_for("esh"), PASSWORD).status_code == 200
    assert len(events(Kind.LOGIN_FAILED)) == settings.AXES_FAILURE_LIMIT + 1  # unknown on esh


def test_rate_limit_records_the_first_refusal_of_a_window_only(client_for, oph_user, settings):  # noqa: F811
    settings.HARMONIA_RATE_LIMITS = {**settings.HARMONIA_RATE_LIMITS, "login_username": "2/300"}
    client = client_for("oph")
    for _ in range(2):
        assert login(client, "mauvais").status_code == 200
    assert events(Kind.RATE_LIMITED) == []  # at the limit: nothing refused yet
    for _ in range(3):
        assert login(client, "mauvais").status_code == 429
    [refused] = events(Kind.RATE_LIMITED)
    assert refused.platform == "oph" and "login_username" in refused.detail


def test_refused_api_tokens_are_recorded_without_the_key(client_for, demo_user):
    client = client_for("dhup")
    made_up = "hrm_deadbeef_" + "x" * 40
    assert get(client, "/api/v1/dossiers/1", made_up).status_code == 401
    assert get(client, "/api/v1/dossiers/1", "n'importe-quoi").status_code == 401
    assert get(client, "/api/v1/dossiers/1").status_code == 401  # no token: not an event
    refused = events(Kind.API_TOKEN_REFUSED)
    assert [e.detail for e in refused] == [
        "Jeton inconnu ou révoqué (préfixe deadbeef).",
        "Jeton d'un format inconnu.",
    ]
    assert all("x" * 40 not in e.detail for e in refused)
    # a live token of a deactivated account
    user = demo_user("dhup", "gestionnaire")
    key = key_of(user)
    with schema_context("dhup"):
        User.objects.filter(pk=user.pk).update(is_active=False)
    assert get(client, "/api/v1/dossiers/1", key).status_code == 401
    assert events(Kind.API_TOKEN_REFUSED)[-1].username == user.username


def test_hostile_uploads_are_recorded_damaged_files_are_not(platforms):
    with schema_context("dhup"):
        with pytest.raises(RegistryFileError):
            registry_file_parse(hostile.macro_enabled(hostile.registry_bytes()), "ref.xlsx")
        with pytest.raises(RegistryFileError):
            registry_file_parse(b"PK\x03\x04 abime", "abime.xlsx")
    [refused] = events(Kind.UPLOAD_REFUSED)
    assert refused.platform == "dhup"
    assert refused.detail.startswith("Répertoire des organismes « ref.xlsx » : ")
    assert "macro" in refused.detail.lower()


def test_read_only_database_roles_are_recorded(db):
    grant_readonly("dhup", "lecture_evenement")
    grant_readonly("dhup", "lecture_evenement")  # rotated
    assert revoke_readonly("lecture_evenement")
    granted = events(Kind.DB_READONLY_GRANT)
    assert [e.platform for e in granted] == ["dhup", "dhup"]
    assert "créé" in granted[0].detail and "renouvelé" in granted[1].detail
    [revoked] = events(Kind.DB_READONLY_REVOKE)
    assert revoked.platform == "dhup" and "lecture_evenement" in revoked.detail


def test_refused_xml_imports_are_recorded(dossier, declarant):  # noqa: F811
    with schema_context("dhup"), pytest.raises(XmlImportRefused):
        dossier_import_xml(
            dossier=dossier, data=b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", acting_user=declarant
        )
    [refused] = events(Kind.XML_IMPORT_REFUSED)
    assert refused.platform == "dhup" and refused.username == declarant.username
    assert refused.detail.startswith(f"Dossier {dossier.pk} ({dossier.organism.siren}) : ")
    assert "DOCTYPE" in refused.detail or "déclaration" in refused.detail


def test_partner_reads_above_their_usual_rate(demo_user, settings):
    settings.HARMONIA_PARTNER_READS_MIN = 20
    settings.HARMONIA_PARTNER_READS_FACTOR = 5
    reader = demo_user("dhup", "partenaire-cdc")
    calm = demo_user("dhup", "partenaire-prefecture")
    now = timezone.now()

    def reads(user, count, at):
        with schema_context("dhup"):
            rows = AccessLog.objects.bulk_create(
                AccessLog(user=user, username=user.username, what="list") for _ in range(count)
            )
            AccessLog.objects.filter(pk__in=[r.pk for r in rows]).update(at=at)

    # usual rate of the reader: 2 a day for 28 days (well under one an hour)
    reads(reader, 56, now - dt.timedelta(days=10))
    reads(reader, 19, now - dt.timedelta(minutes=30))
    # the calm one reads 24 an hour every hour: 20 in the last hour is its usual
    reads(calm, 24 * 24 * 28, now - dt.timedelta(days=3))
    reads(calm, 25, now - dt.timedelta(minutes=10))
    with schema_context("dhup"):
        assert partner_reads_unusual_record(now=now) == []  # 19 < the minimum of 20
        reads(reader, 1, now - dt.timedelta(minutes=5))
        [(username, recent, _)] = partner_reads_unusual_record(now=now)
        assert (username, recent) == (reader.username, 20)
        # once an hour per user
        reads(reader, 30, now - dt.timedelta(minutes=1))
        assert partner_reads_unusual_record(now=now) == []
    [event] = events(Kind.PARTNER_READS)
    assert event.platform == "dhup" and event.username == reader.username
    assert event.detail.startswith("20 consultations en une heure (habituellement 0,1 par heure)")
