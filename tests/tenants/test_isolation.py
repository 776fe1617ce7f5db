"""The five platforms are isolated: accounts, sessions, data and the public host."""

import pytest
from django.utils.html import escape
from django_tenants.utils import schema_context

from accounts.models import Role, User
from organisms.models import Organism

pytestmark = pytest.mark.django_db

PASSWORD = "Un-Mot-De-Passe-Solide-42"


def make_user(schema: str, username: str, role: str = Role.GESTIONNAIRE) -> User:
    with schema_context(schema):
        return User.objects.create_user(
            username=username, email=f"{username}@example.org", password=PASSWORD, role=role
        )


def test_a_user_of_one_platform_cannot_sign_in_on_another(client_for):
    make_user("oph", "seulement-oph")

    refused = client_for("esh").post(
        "/comptes/connexion/", {"username": "seulement-oph", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in refused.content.decode()

    accepted = client_for("oph").post(
        "/comptes/connexion/", {"username": "seulement-oph", "password": PASSWORD}
    )
    assert accepted.status_code == 302
    assert accepted["Location"] == "/"


def test_a_session_of_one_platform_is_worthless_on_another(client_for, demo_user):
    oph = client_for("oph", demo_user("oph", "gestionnaire"))
    esh = client_for("esh")
    esh.cookies = oph.cookies

    assert oph.get("/").status_code == 200
    response = esh.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/connexion/")


def test_oph_gestionnaire_sees_no_esh_organism(client_for, demo_user):
    with schema_context("esh"):
        Organism.objects.create(
            siren="732829320", name="Seulement chez les ESH", family="ESH", departement="69"
        )
        esh_only = set(Organism.objects.values_list("siren", flat=True))
    with schema_context("oph"):
        esh_only -= set(Organism.objects.values_list("siren", flat=True))
    assert "732829320" in esh_only

    client = client_for("oph", demo_user("oph", "gestionnaire"))
    page = client.get("/organismes/", {"q": "Seulement chez les ESH"}).content.decode()
    assert "Seulement chez les ESH" not in page.split("<tbody>")[1]
    assert "Aucun organisme." in page
    by_siren = client.get("/organismes/", {"q": "732829320"}).content.decode()
    assert "732829320" not in by_siren.split("<tbody>")[1]


def test_an_organisme_user_sees_only_its_own_organism(client_for, demo_user):
    user = demo_user("dhup", "organisme")
    own = user.membership.organism
    with schema_context("dhup"):
        other = Organism.objects.exclude(pk=own.pk).first()

    client = client_for("dhup", user)
    page = client.get("/organismes/").content.decode()
    assert own.siren in page
    assert other.siren not in page
    assert page.count("<tr><td>") == 1
    home = client.get("/").content.decode()
    assert escape(own.name) in home


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/organismes/import/", {"gestionnaire"}),
        ("/campagnes/ouvrir/", {"gestionnaire"}),
        ("/organismes/", {"gestionnaire", "organisme", "partenaire-cdc"}),
        ("/campagnes/", {"gestionnaire", "organisme", "partenaire-cdc", "editeur"}),
    ],
)
def test_each_page_checks_the_role(client_for, demo_user, url, allowed):
    for username in ("gestionnaire", "organisme", "partenaire-cdc", "editeur"):
        response = client_for("esh", demo_user("esh", username)).get(url)
        expected = 200 if username in allowed else 403
        assert response.status_code == expected, (username, url)
    anonymous = client_for("esh").get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/comptes/connexion/")


def test_the_public_host_exposes_no_platform_data(client_for, demo_user):
    public = client_for("public")
    home = public.get("/")
    assert home.status_code == 200
    page = home.content.decode()
    for code in ("dhup", "oph", "esh", "coop", "epl"):
        assert f"http://{code}.localhost/" in page
    with schema_context("oph"):
        names = list(Organism.objects.values_list("name", flat=True)[:20])
    assert not any(name in page for name in names)

    for url in ("/organismes/", "/campagnes/", "/cms/", "/organismes/import/"):
        assert public.get(url).status_code == 404, url

    # Platform accounts do not exist on the public host.
    refused = public.post(
        "/comptes/connexion/", {"username": "gestionnaire", "password": "Harmonia-Demo-2024!"}
    )
    assert "Identifiant ou mot de passe incorrect" in refused.content.decode()


def test_operator_space_is_for_operators_only(client_for, demo_user):
    hotline = client_for("public", demo_user("public", "hotline"))
    page = hotline.get("/operateur/")
    assert page.status_code == 200
    assert "Fédération des coopératives HLM" in page.content.decode()
    assert client_for("public").get("/operateur/").status_code == 302


def test_each_platform_has_its_own_wagtail_tree(platforms):
    from wagtail.models import Site

    roots = {}
    for code, platform in platforms.items():
        with schema_context(platform.schema_name):
            site = Site.objects.get(is_default_site=True)
            roots[code] = (site.hostname, site.root_page.specific.title)
    assert roots["oph"] == ("oph.localhost", "Harmonia — Fédération des OPH")
    assert roots["dhup"][0] == "dhup.localhost"
    assert len({title for _, title in roots.values()}) == 5


def test_gestionnaire_reaches_own_cms_only(client_for, demo_user):
    gestionnaire = demo_user("coop", "gestionnaire")
    assert client_for("coop", gestionnaire).get("/cms/").status_code == 200
    organisme = demo_user("coop", "organisme")
    assert client_for("coop", organisme).get("/cms/").status_code == 302
