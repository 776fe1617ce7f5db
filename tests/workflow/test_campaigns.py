import datetime
import io

import pytest
from django_tenants.utils import schema_context

from workflow.models import Campaign

pytestmark = pytest.mark.django_db


def test_gestionnaire_opens_a_campaign(client_for, demo_user):
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    with schema_context("oph"):
        from forms_cms.models import DocumentType

        qdis = DocumentType.objects.get(code="QDIS_OPH")
        before = Campaign.objects.count()
    response = client.post(
        "/campagnes/ouvrir/",
        {
            "exercise": 2025,
            "document_types": [qdis.pk],
            "opening_date": "2026-03-01",
            "deadline": "2026-06-30",
        },
    )
    assert response.status_code == 302
    with schema_context("oph"):
        campaign = Campaign.objects.get(exercise=2025)
        assert Campaign.objects.count() == before + 1
        assert campaign.opened_by.username == "gestionnaire"
        assert list(campaign.document_types.values_list("code", flat=True)) == ["QDIS_OPH"]
        assert campaign.deadline == datetime.date(2026, 6, 30)
    listing = client.get("/campagnes/").content.decode()
    assert "30/06/2026" in listing
    with schema_context("esh"):
        assert not Campaign.objects.filter(exercise=2025).exists()


def test_deadline_before_opening_is_refused_and_nothing_saved(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        before = Campaign.objects.count()
        from forms_cms.models import DocumentType

        er = DocumentType.objects.get(code="ER_SOCIAUX")
    response = client.post(
        "/campagnes/ouvrir/",
        {
            "exercise": 2025,
            "document_types": [er.pk],
            "opening_date": "2026-06-30",
            "deadline": "2026-03-01",
        },
    )
    assert response.status_code == 200
    assert "La date limite (01/03/2026) précède la date d&#x27;ouverture (30/06/2026)" in (
        response.content.decode()
    )
    with schema_context("dhup"):
        assert Campaign.objects.count() == before


def test_the_demo_campaign_is_open_on_every_platform(platforms):
    for platform in platforms.values():
        with schema_context(platform.schema_name):
            campaign = Campaign.objects.get(exercise=2024)
            assert campaign.is_open
            assert campaign.document_types.count() >= 1


def test_platforms_sync_is_idempotent(platforms):
    from django.core.management import call_command

    from tenants.models import Domain, Platform

    before = sorted(Platform.objects.values_list("schema_name", "name", "position"))
    domains = sorted(Domain.objects.values_list("domain", "tenant__schema_name", "is_primary"))
    call_command("platforms_sync", base_domain="localhost", stdout=io.StringIO())
    assert sorted(Platform.objects.values_list("schema_name", "name", "position")) == before
    assert (
        sorted(Domain.objects.values_list("domain", "tenant__schema_name", "is_primary")) == domains
    )
    with schema_context("oph"):
        from wagtail.models import Page

        assert Page.objects.filter(depth=2).count() == 1
