"""Who sees which organisms, in the selector and on the list page."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django_tenants.utils import schema_context

from accounts.models import Role, User
from organisms.models import Membership, Organism, Partner
from organisms.selectors import organisms_visible_to

pytestmark = pytest.mark.django_db

LIST_URL = "/organismes/"
ROW = re.compile(
    r"<tr><td>(\d{9})</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(oui|non)</td>.*?</tr>"
)


def rows(response) -> list[dict]:
    assert response.status_code == 200
    body = response.content.decode().split('data-testid="organism-table"', 1)[1]
    return [
        {
            "siren": siren,
            "name": html.unescape(name),
            "family": html.unescape(family),
            "departement": departement,
            "active": active == "oui",
        }
        for siren, name, family, departement, active in ROW.findall(body)
    ]


def total(response) -> int:
    match = re.search(r"<p>([\d\s\u00a0\u202f.]+) organismes?</p>", response.content.decode())
    assert match, "no total on the page"
    return int(re.sub(r"\D", "", match.group(1)))


def visible_sirens(code: str, user) -> set[str]:
    with schema_context(code):
        return set(organisms_visible_to(user).values_list("siren", flat=True))


# --- the selector ----------------------------------------------------------------------------


def test_gestionnaire_sees_every_organism_even_inactive(demo_user):
    user = demo_user("dhup", "gestionnaire")
    with schema_context("dhup"):
        inactive = Organism.objects.order_by("siren").first()
        Organism.objects.filter(pk=inactive.pk).update(is_active=False)
        everything = set(Organism.objects.values_list("siren", flat=True))
    visible = visible_sirens("dhup", user)
    assert visible == everything
    assert len(visible) == 829
    assert inactive.siren in visible


@pytest.mark.parametrize("code", ["dhup", "oph"])
def test_an_organisme_user_sees_only_its_own(demo_user, code):
    user = demo_user(code, "organisme")
    assert visible_sirens(code, user) == {user.membership.organism.siren}


def test_prefecture_sees_only_the_active_organisms_of_its_departement(demo_user):
    user = demo_user("dhup", "partenaire-prefecture")
    departement = user.membership.partner.departement
    assert departement
    with schema_context("dhup"):
        in_departement = Organism.objects.filter(departement=departement)
        assert in_departement.count() >= 2  # else the test proves little
        hidden = in_departement.order_by("siren").first()
        Organism.objects.filter(pk=hidden.pk).update(is_active=False)
        expected = set(in_departement.filter(is_active=True).values_list("siren", flat=True))
        elsewhere = Organism.objects.exclude(departement=departement).count()
    assert elsewhere > 0
    visible = visible_sirens("dhup", user)
    assert visible == expected
    assert hidden.siren not in visible


def test_national_partner_sees_every_active_organism(demo_user):
    user = demo_user("dhup", "partenaire-cdc")
    with schema_context("dhup"):
        inactive = Organism.objects.order_by("siren").first()
        Organism.objects.filter(pk=inactive.pk).update(is_active=False)
        active = set(Organism.objects.active().values_list("siren", flat=True))
    assert visible_sirens("dhup", user) == active
    assert inactive.siren not in active


def test_users_without_a_binding_and_other_roles_see_nothing(demo_user):
    assert visible_sirens("dhup", demo_user("dhup", "editeur")) == set()
    assert visible_sirens("dhup", AnonymousUser()) == set()
    with schema_context("dhup"):
        orphan = User.objects.create_user(
            username="orphelin", email="orphelin@example.org", role=Role.ORGANISME
        )
        lonely_partner = User.objects.create_user(
            username="partenaire-seul", email="seul@example.org", role=Role.PARTENAIRE
        )
    assert visible_sirens("dhup", orphan) == set()
    assert visible_sirens("dhup", lonely_partner) == set()


def test_a_ddt_with_a_departement_is_limited_like_a_prefecture(demo_user):
    with schema_context("oph"):
        organism = Organism.objects.order_by("siren").first()
        ddt = Partner.objects.create(
            name="DDT test", kind=Partner.Kind.DDT, departement=organism.departement
        )
        user = User.objects.create_user(
            username="ddt", email="ddt@example.org", role=Role.PARTENAIRE
        )
        Membership.objects.create(user=user, partner=ddt)
        expected = set(
            Organism.objects.filter(departement=organism.departement).values_list(
                "siren", flat=True
            )
        )
    assert visible_sirens("oph", user) == expected


# --- the list page ---------------------------------------------------------------------------


def test_gestionnaire_list_shows_everything_paginated(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    response = client.get(LIST_URL)
    assert total(response) == 829
    page = rows(response)
    assert len(page) == 50
    with schema_context("dhup"):
        first_fifty = list(Organism.objects.order_by("name").values_list("siren", flat=True)[:50])
    assert [r["siren"] for r in page] == first_fifty
    assert "Page 1 sur 17" in response.content.decode()

    last = rows(client.get(LIST_URL, {"page": 17}))
    assert len(last) == 829 - 16 * 50


def test_organisme_list_shows_its_own_organism_only(client_for, demo_user):
    user = demo_user("oph", "organisme")
    own = user.membership.organism
    response = client_for("oph", user).get(LIST_URL)
    assert total(response) == 1
    assert rows(response) == [
        {
            "siren": own.siren,
            "name": own.name,
            "family": own.get_family_display(),
            "departement": own.departement,
            "active": True,
        }
    ]


def test_organisme_cannot_search_its_way_to_other_organisms(client_for, demo_user):
    user = demo_user("oph", "organisme")
    with schema_context("oph"):
        other = Organism.objects.exclude(pk=user.membership.organism_id).first()
    client = client_for("oph", user)
    for query in ({"q": other.name}, {"q": other.siren}, {"family": other.family}):
        assert other.siren not in {r["siren"] for r in rows(client.get(LIST_URL, query))}


def test_prefecture_list_shows_its_departement_only(client_for, demo_user):
    user = demo_user("dhup", "partenaire-prefecture")
    departement = user.membership.partner.departement
    response = client_for("dhup", user).get(LIST_URL)
    page = rows(response)
    expected = visible_sirens("dhup", user)
    assert total(response) == len(expected)
    assert page
    assert {r["siren"] for r in page} <= expected
    assert {r["departement"] for r in page} == {departement}


def test_editeur_and_visitor_cannot_list(client_for, demo_user):
    assert client_for("dhup", demo_user("dhup", "editeur")).get(LIST_URL).status_code == 403
    response = client_for("dhup").get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")


def test_search_by_name_fragment(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        target = Organism.objects.order_by("siren").first()
        fragment = target.name[2:12].upper()  # case does not matter
        expected = {o.siren for o in Organism.objects.all() if fragment.lower() in o.name.lower()}
    response = client.get(LIST_URL, {"q": fragment})
    assert target.siren in {r["siren"] for r in rows(response)}
    assert total(response) == len(expected)
    assert {r["siren"] for r in rows(response)} <= expected


def test_search_by_siren_prefix(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        target = Organism.objects.order_by("siren").first()
    page = rows(client.get(LIST_URL, {"q": target.siren}))
    assert [r["siren"] for r in page] == [target.siren]

    prefix = target.siren[:4]
    page = rows(client.get(LIST_URL, {"q": prefix}))
    assert target.siren in {r["siren"] for r in page}
    assert all(r["siren"].startswith(prefix) or prefix in r["name"] for r in page)


def test_filter_by_family(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    response = client.get(LIST_URL, {"family": "OPH"})
    assert total(response) == 179
    page = rows(response)
    assert len(page) == 50
    assert {r["family"] for r in page} == {"Office public de l'habitat (OPH)"}

    moi = client.get(LIST_URL, {"family": "MOI"})
    assert total(moi) == 190
    assert {r["family"] for r in rows(moi)} == {"Maîtrise d'ouvrage d'insertion (MOI)"}


def test_filter_by_family_and_query_together(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        target = Organism.objects.filter(family="ESH").order_by("siren").first()
    assert [
        r["siren"] for r in rows(client.get(LIST_URL, {"q": target.siren, "family": "ESH"}))
    ] == [target.siren]
    assert rows(client.get(LIST_URL, {"q": target.siren, "family": "OPH"})) == []
    assert (
        "Aucun organisme."
        in client.get(LIST_URL, {"q": target.siren, "family": "OPH"}).content.decode()
    )


def test_filter_by_departement(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    with schema_context("dhup"):
        departement = Organism.objects.order_by("siren").first().departement
        count = Organism.objects.filter(departement=departement).count()
    response = client.get(LIST_URL, {"departement": departement})
    assert total(response) == count
    assert {r["departement"] for r in rows(response)} == {departement}


def test_an_unknown_family_filter_is_ignored_not_an_error(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    response = client.get(LIST_URL, {"family": "PAS-UNE-FAMILLE"})
    assert response.status_code == 200


def test_list_view_query_count_is_bounded(client_for, demo_user, django_assert_max_num_queries):
    """Measured for a gestionnaire: 9 statements (tenant's domain for the test client, the
    platform by host, session, user, count, page, and the session save in a savepoint) plus
    a ``SET search_path`` at each schema switch (TENANT_LIMIT_SET_CALLS), plus the footer's
    version and maintenance banner (one query on public, operations.context_processors): at
    most 13. One query per row would add 50."""
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    client.get(LIST_URL)  # warm caches (content types, site) outside the measure
    with django_assert_max_num_queries(13) as full:
        response = client.get(LIST_URL, {"family": "OPH"})
    assert len(rows(response)) == 50
    with schema_context("dhup"):
        one = Organism.objects.order_by("siren").first()
    with django_assert_max_num_queries(13) as single:
        response = client.get(LIST_URL, {"q": one.siren})
    assert len(rows(response)) == 1

    # The number of rows shown does not change the number of queries.
    def statements(queries):
        return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET ")]

    assert len(statements(full)) == len(statements(single))


@pytest.mark.parametrize("username", ["organisme", "partenaire-prefecture", "partenaire-cdc"])
def test_list_view_query_count_for_bound_users(
    client_for, demo_user, django_assert_max_num_queries, username
):
    """The membership and its organism or partner add two queries: at most 14."""
    client = client_for("dhup", demo_user("dhup", username))
    client.get(LIST_URL)
    with django_assert_max_num_queries(14):
        response = client.get(LIST_URL)
    assert rows(response)


def test_page_links_keep_the_filters(client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    content = client.get(LIST_URL, {"family": "OPH"}).content.decode()
    links = re.findall(r'href="\?([^"]*)" rel="next"', content)
    assert links
    assert "family=OPH" in html.unescape(links[0])
