"""One write path per object: fields, controls, aggregates and sub-steps are written only on
the gestionnaire's screens, through one service each, which stamps, journals and signals."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from forms_cms import controls as rules
from forms_cms.fields import version_fields
from forms_cms.models import Aggregate, Control, FormVersion
from forms_cms.services.fields import field_update
from forms_cms.signals import version_fields_changed, version_rules_changed
from workflow.models import Dossier, FiabilisationStep

from .engine.helpers import workbook_bytes
from .test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db

CONTROL = {"code": "C1", "label": "Équilibre", "left": "TOTAL_ACTIF", "right": "TOTAL_PASSIF"}
AGGREGATE = {"tab": "SF", "code": "SF1", "label": "Fonds", "formula": "TOTAL_ACTIF-PAS_CAPITAL"}


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def version(gestionnaire):
    return upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)


@pytest.fixture
def received():
    """(signal, version id, schema) for every signal the services send."""
    calls = []

    def on_rules(sender, version, **kwargs):
        calls.append(("rules", version.pk, connection.schema_name))

    def on_fields(sender, version, **kwargs):
        calls.append(("fields", version.pk, connection.schema_name))

    version_rules_changed.connect(on_rules, weak=False)
    version_fields_changed.connect(on_fields, weak=False)
    yield calls
    version_rules_changed.disconnect(on_rules)
    version_fields_changed.disconnect(on_fields)


# fields ---------------------------------------------------------------------------------------
def test_required_edited_on_the_admin_screen_is_read_at_once_by_every_cached_reader(
    version, gestionnaire, client_for, received, django_capture_on_commit_callbacks
):
    with schema_context("dhup"):
        field = version.fields.get(name="ACT_IMMO")
        # the per-process cache now holds the flag as uploaded
        assert version_fields(FormVersion.objects.get(pk=version.pk))["ACT_IMMO"].required is False
    client = client_for("dhup", gestionnaire)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/formulaires/{version.pk}/champs/{field.pk}/",
            {"label": "Immobilisations nettes", "required": "on", "common": "on"},
        )
    assert response.status_code == 302
    with schema_context("dhup"):
        # what a worker does on its next request: read the dossier's version, then its fields
        reread = FormVersion.objects.get(pk=version.pk)
        info = version_fields(reread)["ACT_IMMO"]
        assert (info.required, info.label) == (True, "Immobilisations nettes")
        assert reread.common_count == 2  # TC_ACT_STOCKS and now ACT_IMMO
        (entry,) = ModelLogEntry.objects.for_instance(field)
        assert (entry.action, entry.user_id) == ("harmonia.field_updated", gestionnaire.pk)
        assert entry.data["changes"]["required"] == [False, True]
    assert received == [("fields", version.pk, "dhup")]


def test_field_update_refused_or_unchanged_writes_and_sends_nothing(
    version, gestionnaire, demo_user, received, django_capture_on_commit_callbacks
):
    with schema_context("dhup"), django_capture_on_commit_callbacks(execute=True):
        field = version.fields.get(name="ACT_IMMO")
        with pytest.raises(ValidationError) as caught:
            field_update(field=field, values={"label": "  "}, acting_user=gestionnaire)
        assert "libellé est obligatoire" in caught.value.message_dict["label"][0]
        with pytest.raises(PermissionDenied):
            field_update(
                field=field, values={"required": True}, acting_user=demo_user("dhup", "organisme")
            )
        field_update(field=field, values={"label": field.label}, acting_user=gestionnaire)
        assert FormVersion.objects.get(pk=version.pk).fields_edited_at is None
        assert not ModelLogEntry.objects.for_instance(field).exists()
    assert received == []


# controls and aggregates ---------------------------------------------------------------------
def test_each_rule_service_signals_once_on_commit(
    version, gestionnaire, received, django_capture_on_commit_callbacks
):
    def one_signal(action):
        received.clear()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = action()
            assert received == []  # nothing before the commit
        assert len(callbacks) == 1
        assert received == [("rules", version.pk, "dhup")]
        return result

    with schema_context("dhup"):
        control = one_signal(
            lambda: rules.control_create(version=version, values=CONTROL, acting_user=gestionnaire)
        )
        one_signal(
            lambda: rules.control_update(
                control=control, values={"label": "Bilan équilibré"}, acting_user=gestionnaire
            )
        )
        one_signal(
            lambda: rules.control_enable(control=control, enabled=False, acting_user=gestionnaire)
        )
        one_signal(
            lambda: rules.control_enable(control=control, enabled=True, acting_user=gestionnaire)
        )
        aggregate = one_signal(
            lambda: rules.aggregate_create(
                version=version, values=AGGREGATE, acting_user=gestionnaire
            )
        )
        one_signal(
            lambda: rules.aggregate_update(
                aggregate=aggregate, values={"label": "Fonds propres"}, acting_user=gestionnaire
            )
        )
        one_signal(lambda: rules.aggregate_delete(aggregate=aggregate, acting_user=gestionnaire))
        one_signal(lambda: rules.control_delete(control=control, acting_user=gestionnaire))
        actions = list(
            ModelLogEntry.objects.filter(
                user_id=gestionnaire.pk, action__regex=r"^harmonia\.(control|aggregate)_"
            )
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == [
        "harmonia.control_created",
        "harmonia.control_updated",
        "harmonia.control_disabled",
        "harmonia.control_enabled",
        "harmonia.aggregate_created",
        "harmonia.aggregate_updated",
        "harmonia.aggregate_deleted",
        "harmonia.control_deleted",
    ]


def test_a_refused_rule_change_signals_nothing(
    version, gestionnaire, demo_user, received, django_capture_on_commit_callbacks
):
    with schema_context("dhup"), django_capture_on_commit_callbacks(execute=True):
        control = rules.control_create(version=version, values=CONTROL, acting_user=gestionnaire)
    received.clear()
    with schema_context("dhup"), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(rules.RuleRefused):
            rules.control_create(
                version=version, values={**CONTROL, "code": "C2", "left": "NOPE"},
                acting_user=gestionnaire,
            )  # fmt: skip
        with pytest.raises(rules.RuleRefused):
            rules.control_update(control=control, values={"right": "=X("}, acting_user=gestionnaire)
        with pytest.raises(rules.RuleRefused):
            rules.aggregate_create(
                version=version, values={**AGGREGATE, "formula": "=INCONNU"},
                acting_user=gestionnaire,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            rules.control_delete(control=control, acting_user=demo_user("dhup", "organisme"))
        # enabling an enabled control changes nothing
        rules.control_enable(control=control, enabled=True, acting_user=gestionnaire)
    assert callbacks == [] and received == []
    with schema_context("dhup"):
        assert ModelLogEntry.objects.for_instance(control).count() == 1  # its creation only


def test_carry_over_signals_once_and_a_preview_not_at_all(
    version, gestionnaire, received, django_capture_on_commit_callbacks
):
    with schema_context("dhup"):
        rules.control_create(version=version, values=CONTROL, acting_user=gestionnaire)
    new = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    received.clear()
    with schema_context("dhup"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            rules.controls_carry_over(version=new, acting_user=gestionnaire, dry_run=True)
        assert callbacks == [] and received == []
        with django_capture_on_commit_callbacks(execute=True):
            report = rules.controls_carry_over(version=new, acting_user=gestionnaire)
        assert [i.code for i in report.copied] == ["C1"]
        (entry,) = ModelLogEntry.objects.for_instance(new).filter(
            action="harmonia.rules_carried_over"
        )
        assert entry.user_id == gestionnaire.pk and entry.data["copied"] == ["contrôle C1"]
    assert received == [("rules", new.pk, "dhup")]


# the admin lists, the screens write ----------------------------------------------------------
def test_the_wagtail_admin_lists_and_links_to_the_screens_but_does_not_write(
    version, gestionnaire, client_for
):
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        field = version.fields.get(name="ACT_IMMO")
        control = rules.control_create(version=version, values=CONTROL, acting_user=gestionnaire)
        aggregate = rules.aggregate_create(
            version=version, values=AGGREGATE, acting_user=gestionnaire
        )
        substep = FiabilisationStep.objects.order_by("position").first()
    listing = client.get("/cms/formulaires/champs/?q=ACT_IMMO")
    assert listing.status_code == 200
    assert f"/formulaires/{version.pk}/champs/{field.pk}/" in listing.content.decode()
    controls = client.get("/cms/formulaires/controles/").content.decode()
    assert f"/formulaires/{version.pk}/controles/{control.pk}/" in controls
    assert f"/cms/formulaires/controles/history/{control.pk}/" in controls
    aggregates = client.get("/cms/formulaires/agregats/").content.decode()
    assert f"/formulaires/{version.pk}/agregats/{aggregate.pk}/" in aggregates
    substeps = client.get("/cms/formulaires/sous-etapes/").content.decode()
    assert f'href="/campagnes/sous-etapes/{substep.pk}/"' in substeps
    assert 'href="/campagnes/sous-etapes/"' in substeps  # "add" opens the screen
    menu = client.get("/cms/").content.decode()  # each list is in the admin's menu
    for url in ("/cms/formulaires/champs/", "/cms/formulaires/sous-etapes/"):
        assert url in menu, url
    # the object's history shows the journal the service wrote
    history = client.get(f"/cms/formulaires/controles/history/{control.pk}/")
    assert history.status_code == 200 and "Contrôle créé" in history.content.decode()
    assert client.get(f"/cms/formulaires/controles/inspect/{control.pk}/").status_code == 200
    # no write route is served any more: neither form nor POST
    for url in (
        f"/cms/formulaires/champs/edit/{field.pk}/",
        "/cms/formulaires/controles/new/",
        f"/cms/formulaires/controles/edit/{control.pk}/",
        f"/cms/formulaires/controles/delete/{control.pk}/",
        f"/cms/formulaires/agregats/delete/{aggregate.pk}/",
        f"/cms/formulaires/sous-etapes/delete/{substep.pk}/",
    ):
        assert client.post(url, {"label": "x", "required": "on"}).status_code == 404, url
    with schema_context("dhup"):
        field.refresh_from_db()
        assert not field.required
        assert Control.objects.filter(pk=control.pk).exists()
        assert Aggregate.objects.filter(pk=aggregate.pk).exists()


# sub-steps ------------------------------------------------------------------------------------
def test_substeps_are_written_on_their_screen_and_one_in_use_stays(
    gestionnaire, client_for, demo_user
):
    from tests.declarations.test_online_form import open_dossier

    upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    client = client_for("dhup", gestionnaire)
    added = client.post(
        "/campagnes/sous-etapes/", {"code": "4.9", "label": "Relance", "position": 9}
    )
    assert added.status_code == 302
    taken = client.post("/campagnes/sous-etapes/", {"code": "4.9", "label": "x", "position": 1})
    assert taken.status_code == 200 and "existe déjà" in taken.content.decode()
    with schema_context("dhup"):
        substep = FiabilisationStep.objects.get(code="4.9")
    edited = client.post(
        f"/campagnes/sous-etapes/{substep.pk}/", {"code": "4.9", "label": "Relances", "position": 9}
    )
    assert edited.status_code == 302
    dossier = open_dossier(demo_user("dhup", "organisme"))
    with schema_context("dhup"):
        Dossier.objects.filter(pk=dossier.pk).update(substep=substep)
    refused = client.post(f"/campagnes/sous-etapes/{substep.pk}/", {"delete": "1"}, follow=True)
    assert "La sous-étape 4.9 est celle de dossiers en cours" in refused.content.decode()
    with schema_context("dhup"):
        assert FiabilisationStep.objects.filter(pk=substep.pk).exists()
        Dossier.objects.filter(pk=dossier.pk).update(substep=None)
    client.post(f"/campagnes/sous-etapes/{substep.pk}/", {"delete": "1"})
    with schema_context("dhup"):
        assert not FiabilisationStep.objects.filter(pk=substep.pk).exists()
        actions = list(
            ModelLogEntry.objects.get_for_model(FiabilisationStep)
            .filter(object_id=str(substep.pk))
            .order_by("id")
            .values_list("action", "user_id", "data__label")
        )
    assert actions == [
        ("harmonia.substep_created", gestionnaire.pk, "Relance"),
        ("harmonia.substep_updated", gestionnaire.pk, "Relances"),
        ("harmonia.substep_deleted", gestionnaire.pk, "Relances"),
    ]
