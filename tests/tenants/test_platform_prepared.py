"""A new platform gets each app's seed through ``tenants.signals.platform_prepared``.

``tenants`` imports none of the apps that seed a platform (tests/test_layers.py): the home
page, document types, sub-steps, partners' defaults and the gestionnaires' rights below can
only come from the receivers each app connects in its ``AppConfig.ready()``.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django_tenants.utils import schema_context

import tenants.services
from tenants.platforms import PlatformSpec
from tenants.services import GESTIONNAIRES_GROUP, platforms_sync
from tenants.signals import platform_prepared

pytestmark = pytest.mark.django_db

MINISTRY = PlatformSpec(
    code="essai",
    name="Harmonia — Plateforme d'essai",
    short_name="Essai",
    kind="ministry",
    collects="États réglementaires (ER)",
    document_types=(
        ("ER_SOCIAUX", "États réglementaires — comptes sociaux"),
        ("ER_GROUPES", "États réglementaires — comptes de groupe"),
    ),
)
FEDERATION = PlatformSpec(
    code="essaifed",
    name="Harmonia — Fédération d'essai",
    short_name="Fédération d'essai",
    kind="federation",
    collects="QDIS",
    family="OPH",
    document_types=(("QDIS_OPH", "Questionnaire (OPH)"),),
)

# what the gestionnaires' group of every platform holds (as platforms_sync granted it before
# the seeding moved into the apps' receivers)
GESTIONNAIRES_PERMISSIONS = {
    ("wagtailadmin", "access_admin"),
    ("accounts", "view_user"),
    ("declarations", "view_apitoken"),
    ("declarations", "view_tronccommunpair"),
    ("organisms", "view_organism"),
    ("organisms", "view_registryimport"),
    ("partners", "view_partnerrule"),
    ("workflow", "view_campaign"),
    ("workflow", "change_campaign"),  # its letter, in the CMS (workflow.wagtail_hooks)
    ("workflow", "view_purgelog"),
    ("forms_cms", "view_formversion"),
    *(("forms_cms", c) for c in ("view_field", "change_field")),
    *(("forms_cms", f"{a}_control") for a in ("view", "add", "change", "delete")),
    *(("forms_cms", f"{a}_aggregate") for a in ("view", "add", "change", "delete")),
    *(("workflow", f"{a}_fiabilisationstep") for a in ("view", "add", "change", "delete")),
}


@pytest.fixture
def new_platforms(monkeypatch):
    """platforms_sync run with two new platforms instead of the five (rolled back with the
    test's transaction); returns the (schema, platform code, spec) each signal carried."""

    def sync(*specs):
        sent = []

        def spy(*, platform, spec, **kwargs):
            sent.append((connection.schema_name, platform.code, spec))

        monkeypatch.setattr(tenants.services, "PLATFORMS", specs)
        platform_prepared.connect(spy, dispatch_uid="test-spy")
        try:
            platforms_sync(base_domain="localhost")
        finally:
            platform_prepared.disconnect(dispatch_uid="test-spy")
        return sent

    return sync


def test_a_new_platform_gets_each_apps_seed_through_the_signal(new_platforms):
    from faq_wiki.models import PlatformHomePage
    from forms_cms.models import DocumentType
    from organisms.models import Partner
    from partners.models import PartnerRule
    from partners.services import DEFAULT_RULES, NATIONAL_PARTNERS
    from workflow.models import FiabilisationStep
    from workflow.services.lifecycle import DEFAULT_SUBSTEPS

    sent = new_platforms(MINISTRY, FEDERATION)

    # sent inside each schema, with the platform and its spec (None for the template)
    assert sent == [
        ("platform_template", "template", None),
        ("essai", "essai", MINISTRY),
        ("essaifed", "essaifed", FEDERATION),
    ]
    for spec in (MINISTRY, FEDERATION):
        with schema_context(spec.code):
            # forms_cms: the document types the platform collects, in order
            assert list(DocumentType.objects.order_by("position").values_list("code", "label")) == [
                *spec.document_types
            ]
            # declarations: the tronc-commun pairs, kept on the ministry platform (those of
            # the documents it collects)
            from declarations.models import TroncCommunPair

            assert set(
                TroncCommunPair.objects.values_list(
                    "ministry_document__code", "platform", "document_code"
                )
            ) == (
                {("ER_SOCIAUX", "oph", "QDIS_OPH"), ("ER_SOCIAUX", "esh", "QDIS_ESH"),
                 ("ER_SOCIAUX", "coop", "QDIS_COOP")}
                if spec.kind == "ministry"
                else set()
            )  # fmt: skip
            # workflow: the default sub-steps of step 4
            assert list(
                FiabilisationStep.objects.order_by("position").values_list("code", "label")
            ) == list(DEFAULT_SUBSTEPS)
            # faq_wiki: the home page, root of the default site on the platform's host
            from wagtail.models import GroupPagePermission, Page, Site

            home = PlatformHomePage.objects.get()
            assert home.title == spec.name
            site = Site.objects.get(is_default_site=True)
            assert (site.hostname, site.root_page_id) == (f"{spec.code}.localhost", home.pk)
            assert list(Page.objects.filter(depth=2).values_list("pk", flat=True)) == [home.pk]
            # each app's rights for the gestionnaires, and tenants' own on the home page
            group = Group.objects.get(name=GESTIONNAIRES_GROUP)
            granted = set(group.permissions.values_list("content_type__app_label", "codename"))
            assert granted == GESTIONNAIRES_PERMISSIONS
            assert set(
                GroupPagePermission.objects.filter(group=group, page=home).values_list(
                    "permission__codename", flat=True
                )
            ) == {"add_page", "change_page", "publish_page"}

    # partners: the ministry's national partners and default rules, none on a federation
    with schema_context(MINISTRY.code):
        assert set(Partner.objects.values_list("kind", "name")) == set(NATIONAL_PARTNERS)
        rules = PartnerRule.objects.select_related("document_type")
        assert sorted((r.partner_kind, r.mode) for r in rules) == sorted(DEFAULT_RULES)
        assert {r.document_type.code for r in rules} == {"ER_SOCIAUX"}
        assert {r.transmit_at for r in rules} == {"4.1,4.8,6"}
    with schema_context(FEDERATION.code):
        assert not PartnerRule.objects.exists()
        assert not Partner.objects.exists()


def test_partners_defaults_do_not_depend_on_the_receivers_order(new_platforms):
    """The partners' default rules name a document type: without forms_cms' receiver having
    run first, the partners' receiver seeds the document types itself."""
    from forms_cms import receivers as forms_receivers
    from partners.models import PartnerRule

    platform_prepared.disconnect(dispatch_uid="forms-platform")
    try:
        new_platforms(MINISTRY)
    finally:
        platform_prepared.connect(forms_receivers.platform_seed, dispatch_uid="forms-platform")

    with schema_context(MINISTRY.code):
        assert PartnerRule.objects.filter(document_type__code="ER_SOCIAUX").count() == 5


def test_preparing_again_keeps_what_the_gestionnaires_changed(new_platforms):
    """platforms_sync runs on every deployment: the receivers add what is missing and leave a
    platform's own sub-steps, rules and home page content alone."""
    from faq_wiki.models import PlatformHomePage
    from partners.models import PartnerRule
    from workflow.models import FiabilisationStep

    new_platforms(MINISTRY)
    with schema_context(MINISTRY.code):
        FiabilisationStep.objects.filter(code="4.8").delete()
        PartnerRule.objects.filter(partner_kind="FEDERATION").delete()
        home = PlatformHomePage.objects.get()
        home.intro = "<p>Bienvenue</p>"
        home.save()

    new_platforms(MINISTRY)
    with schema_context(MINISTRY.code):
        assert not FiabilisationStep.objects.filter(code="4.8").exists()
        assert FiabilisationStep.objects.count() == 7
        assert PartnerRule.objects.count() == 4
        assert PlatformHomePage.objects.get().intro == "<p>Bienvenue</p>"
