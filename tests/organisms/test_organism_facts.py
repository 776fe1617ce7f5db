"""The gestionnaire corrects an organism's deadline facts on its page (regime, closing day,
federation): journaled, refused with the reason when wrong, the gestionnaires' alone."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from organisms.models import Organism
from tests.helpers import text_of

pytestmark = pytest.mark.django_db


def first(family: str) -> Organism:
    with schema_context("dhup"):
        return Organism.objects.filter(family=family).order_by("pk").first()


def test_the_gestionnaire_corrects_the_regime_and_the_closing(demo_user, client_for):
    oph = first("OPH")
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    assert (
        f'href="/organismes/{oph.pk}/"'
        in client.get(f"/organismes/?q={oph.siren}").content.decode()
    )
    response = client.post(
        f"/organismes/{oph.pk}/",
        {"accounting": "COMMERCE", "closing": "30/06", "federation": "oph"},
        follow=True,
    )
    assert "Données de l'organisme enregistrées" in text_of(response)
    with schema_context("dhup"):
        stored = Organism.objects.get(pk=oph.pk)
        entry = ModelLogEntry.objects.get(action="harmonia.organism_facts_updated")
    assert (stored.accounting, stored.closing, stored.federation) == ("COMMERCE", "30/06", "oph")
    assert entry.data["changes"]["closing"] == [oph.closing, "30/06"]


@pytest.mark.parametrize(
    ("family", "posted", "message"),
    [
        ("ESH", {"accounting": "PUBLIQUE", "closing": "31/12"}, "ne se précise que pour un OPH"),
        ("OPH", {"accounting": "", "closing": "31/02"}, "ce jour n'existe pas"),
        ("OPH", {"accounting": "", "closing": "juin"}, "écrivez le jour et le mois"),
        ("OPH", {"accounting": "AUTRE", "closing": "31/12"}, "Sélectionnez un choix valide"),
    ],
)
def test_a_wrong_fact_is_refused_and_nothing_changes(
    demo_user, client_for, family, posted, message
):
    organism = first(family)
    response = client_for("dhup", demo_user("dhup", "gestionnaire")).post(
        f"/organismes/{organism.pk}/", {"federation": "", **posted}
    )
    assert response.status_code == 200 and message in text_of(response)
    with schema_context("dhup"):
        stored = Organism.objects.get(pk=organism.pk)
    assert (stored.accounting, stored.closing) == (organism.accounting, organism.closing)


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "editeur", None])
def test_the_organism_page_is_the_gestionnaires(username, demo_user, client_for):
    oph = first("OPH")
    client = client_for("dhup", demo_user("dhup", username) if username else None)
    expected = 302 if username is None else 403
    assert client.get(f"/organismes/{oph.pk}/").status_code == expected
    posted = client.post(f"/organismes/{oph.pk}/", {"accounting": "", "closing": "30/06"})
    assert posted.status_code == expected
    with schema_context("dhup"):
        assert Organism.objects.get(pk=oph.pk).closing == oph.closing


def test_a_federation_platform_has_no_federation_field(demo_user, client_for):
    with schema_context("oph"):
        organism = Organism.objects.order_by("pk").first()
    page = client_for("oph", demo_user("oph", "gestionnaire")).get(f"/organismes/{organism.pk}/")
    assert page.status_code == 200 and 'name="federation"' not in page.content.decode()
