"""Evolution requests register (CCTP 3.5.2): numbering, the 20–40-word description, federation
requests for every federation, CGLLS's decision, delivery by a release, the yearly synthesis from
September (page, PDF, XLSX); refusals in French with nothing stored."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from operations import evolutions
from operations.models import EvolutionRequest, Release

pytestmark = pytest.mark.django_db

WORDS = " ".join(["évolution"] * 25)


@pytest.fixture
def staff(demo_user):
    return demo_user("public", "maintenance")


def create(by, **overrides) -> EvolutionRequest:
    fields = {
        "description": WORDS,
        "requested_on": date(2025, 9, 15),
        "requester": "Fédération des OPH",
        "requester_kind": "federation",
        "all_federations": True,
        "platforms": ["oph"],
    }
    fields.update(overrides)
    return evolutions.evolution_request_create(by=by, **fields)


def test_a_federation_request_is_numbered_and_covers_every_federation(staff):
    first = create(staff)
    second = create(staff, requester_kind="ministry", requester="DHUP", all_federations=False,
                    platforms=["dhup"])  # fmt: skip
    assert (first.number, second.number) == ("EVO-2025-001", "EVO-2025-002")
    assert first.platforms == ["oph", "esh", "coop", "epl"]
    assert first.status == "to_decide" and first.created_by == staff
    assert second.platforms == ["dhup"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"description": " ".join(["mot"] * 12)},
            "description",
            "La description doit compter entre 20 et 40 mots (12 saisis).",
        ),
        (
            {"description": " ".join(["mot"] * 41)},
            "description",
            "La description doit compter entre 20 et 40 mots (41 saisis).",
        ),
        (
            {"requester_kind": "organism", "all_federations": True},
            "all_federations",
            evolutions.MSG_ALL_FEDERATIONS,
        ),
        (
            {"all_federations": False, "platforms": []},
            "platforms",
            evolutions.MSG_NO_PLATFORM,
        ),
        (
            {"requested_on": timezone.localdate() + timedelta(days=1)},
            "requested_on",
            evolutions.MSG_FUTURE,
        ),
        (
            {"cost": Decimal("-10")},
            "cost",
            "« Coût global proposé (€ HT) » ne peut pas être négatif.",
        ),
    ],
)
def test_wrong_requests_are_refused_with_the_reason_and_nothing_is_stored(
    staff, overrides, field, message
):
    with pytest.raises(ValidationError) as error:
        create(staff, **overrides)
    assert error.value.message_dict[field] == [message]
    assert not EvolutionRequest.objects.exists()


def test_the_screen_refuses_a_twelve_word_request_and_names_the_reason(client_for, staff):
    client = client_for("public", staff)
    response = client.post(
        "/operateur/evolutions/",
        {
            "description": " ".join(["mot"] * 12),
            "requested_on": "2025-09-15",
            "requester": "OPH de l'Ain",
            "requester_kind": "organism",
            "platforms": ["oph"],
        },
    )
    assert response.status_code == 400
    assert "La description doit compter entre 20 et 40 mots (12 saisis)." in unescape(
        response.content.decode()
    )
    assert not EvolutionRequest.objects.exists()

    created = client.post(
        "/operateur/evolutions/",
        {
            "description": WORDS,
            "requested_on": "2025-09-15",
            "requester": "OPH de l'Ain",
            "requester_kind": "organism",
            "platforms": ["oph"],
            "person_days": "2,5",
            "cost": "1 500,00",
        },
    )
    assert created.status_code == 302
    item = EvolutionRequest.objects.get()
    assert item.person_days == Decimal("2.5") and item.requester == "OPH de l'Ain"
    page = unescape(client.get("/operateur/evolutions/").content.decode())
    assert "EVO-2025-001" in page and "OPH de l'Ain (Organisme)" in page


def test_cglls_decides_and_staff_deliver_with_a_release(client_for, demo_user, staff):
    item = create(staff)
    cglls = client_for("public", demo_user("public", "cglls"))
    maintenance = client_for("public", staff)
    url = f"/operateur/evolutions/{item.number}/"
    release = Release.objects.create(number="4.3.0", date=date(2026, 2, 1))

    # staff cannot decide, CGLLS cannot deliver
    assert maintenance.post(f"{url}decision/", {"status": "retained"}).status_code == 403
    assert cglls.post(f"{url}livraison/", {"release": release.pk}).status_code == 403
    # delivering a request not retained: refused with the reason
    page = maintenance.post(f"{url}livraison/", {"release": release.pk}, follow=True)
    assert "Seule une demande retenue par la CGLLS peut être réalisée" in unescape(
        page.content.decode()
    )
    item.refresh_from_db()
    assert item.status == "to_decide" and item.release is None

    assert cglls.post(f"{url}decision/", {"status": "delivered"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "to_decide"  # « réalisée » is not a decision
    assert cglls.post(f"{url}decision/", {"status": "retained"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "retained"

    assert maintenance.post(f"{url}livraison/", {"release": release.pk}).status_code == 302
    item.refresh_from_db()
    assert item.status == "delivered" and item.release == release
    with pytest.raises(ValidationError) as error:
        evolutions.evolution_request_decide(item, by=None, status="abandoned")
    assert "déjà réalisée (version 4.3.0)" in error.value.messages[0]
    # the version tracking document shows it under its release
    document = unescape(cglls.get("/operateur/versions/suivi/").content.decode())
    assert f"{item.number} — {WORDS}" in document


def test_census_year_starts_in_september():
    assert evolutions.census_year(date(2026, 8, 31)) == 2025
    assert evolutions.census_year(date(2026, 9, 1)) == 2026


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_yearly_synthesis_from_september(client_for, demo_user, staff):
    old_open = create(staff, requested_on=date(2025, 3, 1))  # carried over: still to decide
    old_done = create(staff, requested_on=date(2025, 4, 1))
    EvolutionRequest.objects.filter(pk=old_done.pk).update(status="abandoned")
    in_census = create(staff, requested_on=date(2025, 9, 1), person_days=Decimal("3"),
                       cost=Decimal("1800"))  # fmt: skip
    EvolutionRequest.objects.filter(pk=in_census.pk).update(status="retained")
    create(staff, requested_on=date(2026, 9, 1))  # next census

    synthesis = evolutions.evolution_synthesis(2025)
    assert [r.number for r in synthesis.carried_over] == [old_open.number]
    assert [r.number for r in synthesis.requests] == [in_census.number]
    retained = next(t for t in synthesis.totals if t.label == "Retenue")
    assert (retained.count, retained.person_days, retained.cost) == (1, 3, 1800)

    cglls = client_for("public", demo_user("public", "cglls"))
    url = "/operateur/evolutions/synthese/"
    page = unescape(cglls.get(url, {"annee": 2025}).content.decode())
    assert "recensement 2025-2026" in page and in_census.number in page
    assert old_done.number not in page
    pdf = cglls.get(url, {"annee": 2025, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="synthese-evolutions-2025-2026.pdf"' in pdf["Content-Disposition"]
    assert in_census.number in _pdf_text(pdf.content)
    xlsx = cglls.get(url, {"annee": 2025, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content))["demandes"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        old_open.number,
        in_census.number,
    ]
    assert sheet["C3"].value.date() == date(2025, 9, 1)

    for params, message in [
        ({"annee": "deux"}, "L'année doit être un nombre"),
        ({"annee": 2025, "format": "doc"}, "Format inconnu"),
    ]:
        refused = cglls.get(url, params)
        assert refused.status_code == 400 and message in unescape(refused.content.decode())
