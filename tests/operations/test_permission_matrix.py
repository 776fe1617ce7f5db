"""Permission matrix of the operator's space (/operateur/ on the public host): every page and
download, read (GET) and written (POST), for each role of the public host, a visitor, and the
accounts of a platform (whose host has no operator's space). A refused answer carries none of
the values of the page it refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from operations import evolutions, services, workload
from operations.models import (
    ActivityReport,
    Anomaly,
    EvolutionRequest,
    FormWorkEntry,
    HotlineContact,
    MaintenanceWindow,
    Release,
)

pytestmark = pytest.mark.django_db


def url(name: str, args=()) -> str:
    """A URL of the public host (the operator's space is in its URL conf only)."""
    return reverse(name, args=args, urlconf=settings.PUBLIC_SCHEMA_URLCONF)


SECRET = "Zéphyrin-secret-7731"  # in every object's text: must never appear in a refused body
WORDS = " ".join([SECRET] + ["mot"] * 24)
ROLES = ("hotline", "maintenance", "cglls", "correspondant")
STAFF = {"hotline", "maintenance"}
PUBLIC = STAFF | {"cglls"}
TRACKER = PUBLIC | {"correspondant"}


@pytest.fixture
def objects(demo_user):
    staff = demo_user("public", "hotline")
    release = Release.objects.create(number="4.9.0", date=date(2026, 1, 5), corrections=SECRET)
    anomaly = services.anomaly_create(
        by=staff,
        short_description=WORDS,
        severity="critical",
        found_on=date(2026, 1, 2),
        reporter=SECRET,
        platforms=["dhup"],
    )
    request = evolutions.evolution_request_create(
        by=staff,
        description=WORDS,
        requested_on=date(2025, 9, 10),
        requester=SECRET,
        requester_kind="ministry",
        all_federations=False,
        platforms=["dhup"],
    )
    entry = workload.form_work_entry_create(
        by=staff,
        day=date(2026, 1, 5),
        platform="oph",
        form_version=SECRET,
        person_days=Decimal("1"),
        description=SECRET,
    )
    window = MaintenanceWindow.objects.create(
        platforms=["oph"],
        reason=SECRET,
        starts_at="2099-01-01T20:00Z",
        ends_at="2099-01-01T22:00Z",
    )
    contact = HotlineContact.objects.create(
        received_at="2026-01-05T09:00Z",
        channel="phone",
        platform="oph",
        caller_name=SECRET,
        subject="entry",
        description=SECRET,
    )
    report = ActivityReport.objects.create(
        platform="oph", exercise=2025, pdf=SECRET.encode(), xlsx=SECRET.encode()
    )
    return {
        "release": release,
        "anomaly": anomaly,
        "request": request,
        "entry": entry,
        "window": window,
        "contact": contact,
        "report": report,
    }


def reads(o) -> list[tuple[str, frozenset]]:
    """(URL, roles that may read it)."""
    n, r = o["anomaly"].number, o["request"].number
    return [
        ("/operateur/", TRACKER),
        (url("operations:anomaly_list"), TRACKER),
        (url("operations:anomaly_detail", args=[n]), TRACKER),
        (url("operations:anomaly_details", args=[n]), STAFF),
        (url("operations:anomaly_synthesis") + "?annee=2026&mois=1&format=xlsx", TRACKER),
        (url("operations:correspondent_list"), PUBLIC),
        (url("operations:hotline_list"), PUBLIC),
        (url("operations:hotline_edit", args=[o["contact"].pk]), PUBLIC),
        (url("operations:hotline_export") + "?format=csv", PUBLIC),
        (url("operations:activity_download", args=[o["report"].pk, "pdf"]), PUBLIC),
        (url("operations:release_list"), PUBLIC),
        (url("operations:release_edit", args=[o["release"].pk]), STAFF),
        (url("operations:version_document"), PUBLIC),
        (url("operations:version_document") + "?format=xlsx", PUBLIC),
        (url("operations:version_document") + "?format=pdf", PUBLIC),
        (url("operations:maintenance_list"), PUBLIC),
        (url("operations:evolution_list"), PUBLIC),
        (url("operations:evolution_detail", args=[r]), PUBLIC),
        (url("operations:evolution_synthesis") + "?annee=2025", PUBLIC),
        (url("operations:evolution_synthesis") + "?annee=2025&format=xlsx", PUBLIC),
        (url("operations:evolution_synthesis") + "?annee=2025&format=pdf", PUBLIC),
        (url("operations:workload_list"), PUBLIC),
        (url("operations:workload_report") + "?periode=2026-01", PUBLIC),
        (url("operations:workload_report") + "?periode=2026-01&format=xlsx", PUBLIC),
        (url("operations:workload_report") + "?periode=2026-01&format=pdf", PUBLIC),
    ]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_what_its_role_admits_and_nothing_else(
    objects, client_for, demo_user, role
):
    client = client_for("public", demo_user("public", role))
    for url, allowed in reads(objects):
        response = client.get(url)
        if role in allowed:
            assert response.status_code == 200, (role, url)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert SECRET.encode() not in _body(response), (role, url)


def test_visitors_are_sent_to_sign_in_and_platform_hosts_have_no_operator_space(
    objects, client_for, demo_user
):
    anonymous = client_for("public")
    platform_users = [client_for("oph", demo_user("oph", u)) for u in ("gestionnaire", "organisme")]
    login = url("accounts:login")
    for path, _ in reads(objects):
        response = anonymous.get(path)
        assert response.status_code == 302 and login in response["Location"]
        for client in platform_users:  # another platform's host: the URL does not exist there
            refused = client.get(path)
            assert refused.status_code == 404, path
            assert SECRET.encode() not in _body(refused)


def writes(o) -> list[tuple[str, dict, frozenset]]:
    """(URL, a valid POST, roles that may send it)."""
    r = o["request"].number
    return [
        (
            url("operations:evolution_list"),
            {
                "description": WORDS,
                "requested_on": "2025-09-11",
                "requester": "DHUP",
                "requester_kind": "ministry",
                "platforms": ["dhup"],
            },
            STAFF,
        ),
        (
            url("operations:evolution_detail", args=[r]),
            {
                "description": WORDS,
                "requested_on": "2025-09-10",
                "requester": "DHUP",
                "requester_kind": "ministry",
                "platforms": ["dhup"],
                "priority": "high",
            },
            STAFF,
        ),
        (url("operations:evolution_decide", args=[r]), {"status": "retained"}, {"cglls"}),
        (
            url("operations:evolution_deliver", args=[r]),
            {"release": o["release"].pk},
            STAFF,
        ),
        (
            url("operations:workload_list"),
            {
                "day": "2026-01-06",
                "platform": "esh",
                "form_version": "QDIS ESH 2025 v1",
                "person_days": "1",
                "description": "Tests",
            },
            STAFF,
        ),
        (url("operations:workload_delete", args=[o["entry"].pk]), {}, STAFF),
        (url("operations:workload_send"), {"periode": "2026-01"}, STAFF),
        (
            url("operations:release_edit", args=[o["release"].pk]),
            {"number": "4.9.0", "date": "2026-01-06", "corrections": "x"},
            STAFF,
        ),
        (
            url("operations:maintenance_decide", args=[o["window"].pk]),
            {"decision": "refuse", "comment": "Non"},
            {"cglls"},
        ),
        (
            url("operations:maintenance_list"),
            {
                "platforms": ["oph"],
                "reason": "Montée de version",
                "starts_at": "2099-02-01T20:00",
                "ends_at": "2099-02-01T22:00",
            },
            STAFF,
        ),
    ]


def _state() -> tuple:
    """What the writes above change."""
    request = EvolutionRequest.objects.order_by("pk").first()
    return (
        EvolutionRequest.objects.count(),
        request.status,
        request.priority,
        request.release_id,
        FormWorkEntry.objects.count(),
        Release.objects.get().date,
        list(MaintenanceWindow.objects.values_list("status", flat=True).order_by("pk")),
    )


@pytest.mark.parametrize("role", ROLES)
def test_writes_refused_to_other_roles_change_nothing(objects, client_for, demo_user, role):
    client = client_for("public", demo_user("public", role))
    before = _state()
    for url, data, allowed in writes(objects):
        if role in allowed:
            continue
        response = client.post(url, data)
        assert response.status_code == 403, (role, url, response.status_code)
        assert SECRET.encode() not in response.content
    assert _state() == before


def test_writes_admitted_go_through(objects, client_for, demo_user, settings):
    settings.HARMONIA_PROJECT_COMMITTEE_EMAILS = ["comite@example.org"]
    staff = client_for("public", demo_user("public", "maintenance"))
    cglls = client_for("public", demo_user("public", "cglls"))
    for url, data, allowed in writes(objects):
        client = cglls if allowed == {"cglls"} else staff
        if "livraison" in url:  # delivered only once retained (the decision comes first)
            continue
        assert client.post(url, data).status_code == 302, url
    url, data, _ = next(w for w in writes(objects) if "livraison" in w[0])
    assert staff.post(url, data).status_code == 302
    request = EvolutionRequest.objects.get(number=objects["request"].number)
    assert (request.status, request.priority, request.release) == (
        "delivered",
        "high",
        objects["release"],
    )
    assert EvolutionRequest.objects.count() == 2
    assert list(FormWorkEntry.objects.values_list("platform", flat=True)) == ["esh"]
    assert MaintenanceWindow.objects.get(pk=objects["window"].pk).status == "refused"
    with pytest.raises(ValidationError):  # and a request has exactly one decision path
        evolutions.evolution_request_decide(request, by=None, status="retained")


def test_visitors_and_platform_accounts_cannot_write(objects, client_for, demo_user):
    before = _state()
    anonymous = client_for("public")
    gestionnaire = client_for("oph", demo_user("oph", "gestionnaire"))
    for url, data, _ in writes(objects):
        assert anonymous.post(url, data).status_code == 302
        assert gestionnaire.post(url, data).status_code == 404
    assert _state() == before
    assert Anomaly.objects.count() == 1


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200, path
    return len(queries)


def test_register_pages_cost_the_same_however_many_rows(objects, client_for, demo_user):
    """The query count of each list and document does not grow with its rows."""
    client = client_for("public", demo_user("public", "cglls"))
    paths = [
        url("operations:evolution_list"),
        url("operations:evolution_synthesis") + "?annee=2025",
        url("operations:workload_list"),
        url("operations:workload_report") + "?periode=2026-01",
        url("operations:release_list"),
        url("operations:version_document"),
        url("operations:maintenance_list"),
    ]
    client.get(paths[0])  # the session's periodic refresh happens on a first request
    before = {path: _queries(client, path) for path in paths}
    staff = demo_user("public", "hotline")
    for i in range(3):
        release = Release.objects.create(number=f"5.0.{i}", date=date(2026, 1, 10 + i))
        anomaly = services.anomaly_create(
            by=staff,
            short_description=WORDS,
            severity="minor",
            found_on=date(2026, 1, 3),
            reporter="x",
            platforms=["oph"],
        )
        services.anomaly_update_details(anomaly, by=staff, release=release)
        request = evolutions.evolution_request_create(
            by=staff,
            description=WORDS,
            requested_on=date(2025, 10, 1 + i),
            requester="USH",
            requester_kind="partner",
            platforms=["oph"],
        )
        EvolutionRequest.objects.filter(pk=request.pk).update(status="delivered", release=release)
        workload.form_work_entry_create(
            by=staff,
            day=date(2026, 1, 10 + i),
            platform="esh",
            form_version=f"QDIS ESH v{i}",
            person_days=Decimal("1"),
            description="Tests",
        )
        MaintenanceWindow.objects.create(
            platforms=["esh"],
            reason="x",
            starts_at="2099-03-01T20:00Z",
            ends_at="2099-03-01T22:00Z",
            blocking_anomaly=anomaly,
            requested_by=staff,
        )
    assert {path: _queries(client, path) for path in paths} == before
