"""Every dossier URL × every role × every step: the expected status, and no value in the body
of anyone who may not read it (CCTP 2.2.4: steps 1–3 are the organism's internal work).

The sentinel amounts are distinctive: their digits never appear in a page by chance."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from declarations.services import dossier_values_save
from partners.models import AccessLog
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from tests.helpers import fire
from workflow.models import Dossier, DossierExport, Step

pytestmark = pytest.mark.django_db

SENT = "987654,32"  # entered before the first transmission
SENT_DIGITS = "987654"
WIP = "555444,11"  # typed by the organism while the dossier is handed back
WIP_DIGITS = "555444"
STEPS = ["1", "2", "3", "4", "4R", "5", "6"]
# the owner's status on its own screens by step, where not 200
OWNER_SCREENS = {"rapatrier/": {}, "tronc-commun/": {}}
WHITESPACE = re.compile(r"[\s\u00a0\u202f]")


def _digits_free(body: bytes) -> str:
    return WHITESPACE.sub("", body.decode("utf-8", "replace"))


def reach(step: str, declarant, gestionnaire):  # noqa: F811
    """A dossier brought to ``step`` through the real services."""
    dossier = open_dossier(declarant)
    if step == "1":
        return dossier
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": SENT, "PAS_CAPITAL": "10"},
            acting_user=declarant,
        )
    if step == "2":
        return dossier
    fire(dossier, "validate", declarant)
    if step == "3":
        return dossier
    fire(dossier, "transmit", declarant)
    if step == "4":
        return dossier
    if step == "4R":
        fire(dossier, "hand_back", gestionnaire, comment="Précisez l'actif.")
        with schema_context("dhup"):
            dossier_values_save(dossier=dossier, entries={"ACT_IMMO": WIP}, acting_user=declarant)
        return dossier
    fire(dossier, "finalise", gestionnaire)
    if step == "5":
        return dossier
    fire(dossier, "archive", gestionnaire)
    return dossier


def value_urls(dossier, export_pk):
    """(method, url) of every surface that shows values or something derived from them."""
    base = f"/declarations/dossiers/{dossier.pk}/"
    return [
        ("get", base),
        ("get", f"{base}feuilles/0/"),
        ("get", f"{base}xml/"),
        ("get", f"{base}xml/export/"),
        ("get", f"{base}verification/"),
        ("get", f"{base}historique/"),
        ("get", f"{base}historique/?champ=ACT_IMMO"),
        ("get", f"{base}modifications/"),
        ("post", f"{base}pdf/"),
        ("get", f"{base}pdf/{export_pk}/"),
        ("get", f"{base}pdf/{export_pk}/etat/"),
        ("get", f"{base}pdf/{export_pk}/telecharger/"),
    ]


def call(client, method, url):
    return client.post(url) if method == "post" else client.get(url)


@pytest.mark.parametrize("step", STEPS)
def test_dossier_surfaces_by_role_and_step(step, version, declarant, outsider, client_for,  # noqa: F811
                                           demo_user):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == step
        # a PDF the organism asked for (its own copy of its work in progress)
        from declarations.pdf.tasks import dossier_pdf_request

        own_pdf = dossier_pdf_request(dossier=dossier, acting_user=declarant)
    run_queued_jobs()  # the organism's PDF and the transmission's
    with schema_context("dhup"):
        snapshots = list(DossierExport.objects.filter(dossier=dossier, step_change__isnull=False))
        reads_before = AccessLog.objects.count()
        oph_has_same_pk = False
    with schema_context("oph"):
        oph_has_same_pk = Dossier.objects.filter(pk=dossier.pk).exists()
    urls = value_urls(dossier, own_pdf.pk)
    clients = {
        "owner": client_for("dhup", declarant),
        "gestionnaire": client_for("dhup", gestionnaire),
        "outsider": client_for("dhup", outsider),  # an organisme user of another organism
        "partner": client_for("dhup", demo_user("dhup", "partenaire-cdc")),
        "prefecture": client_for("dhup", demo_user("dhup", "partenaire-prefecture")),
        "editeur": client_for("dhup", demo_user("dhup", "editeur")),
        "anonymous": client_for("dhup"),
        "other platform": client_for("oph", demo_user("oph", "gestionnaire")),
    }
    hidden_for_gestionnaire = step in ("1", "2", "3")
    for role, client in clients.items():
        for method, url in urls:
            response = call(client, method, url)
            status = response.status_code
            is_pdf_of_owner = "/pdf/" in url and not url.endswith("/pdf/")
            if role == "owner":
                expected = 302 if method == "post" else 200
            elif role == "gestionnaire":
                if hidden_for_gestionnaire:
                    expected = 403
                elif is_pdf_of_owner:
                    expected = 403  # the organism's own export, not a transmission
                else:
                    expected = 302 if method == "post" else 200
            elif role == "anonymous":
                expected = 302
            elif role == "outsider":
                expected = 404
            elif role == "other platform":
                expected = None if oph_has_same_pk else 404
            else:  # partners, editors: not a dossier screen of theirs
                expected = 403
            if expected is not None:
                assert status == expected, (step, role, method, url, status)
            if role == "anonymous":
                assert "/comptes/" in response["Location"]
            body = _digits_free(response.content)
            if role != "owner" and (role != "gestionnaire" or hidden_for_gestionnaire):
                assert SENT_DIGITS not in body, (step, role, url)
            if role != "owner":
                assert WIP_DIGITS not in body, (step, role, url)  # never the work in progress
            if role == "gestionnaire" and hidden_for_gestionnaire and method == "get":
                assert "seul l'organisme a accès aux données" in response.content.decode(
                ).replace("&#x27;", "'")  # fmt: skip
    # positive control: the gestionnaire reads the transmitted values from step 4
    if not hidden_for_gestionnaire:
        page = clients["gestionnaire"].get(f"/declarations/dossiers/{dossier.pk}/")
        assert SENT_DIGITS in _digits_free(page.content)
    # the exchange space and the transmitted documents: organism and gestionnaires, always
    thread = f"/echanges/dossiers/{dossier.pk}/"
    for role in ("owner", "gestionnaire"):
        assert clients[role].get(thread).status_code == 200, (step, role)
        for snapshot in snapshots:
            url = f"/declarations/dossiers/{dossier.pk}/transmis/{snapshot.pk}/"
            response = clients[role].get(url)
            if snapshot.status == DossierExport.Status.DONE:
                assert response.status_code == 200, (step, role, url)
                assert WIP_DIGITS not in _digits_free(response.content)
    for role, expected in (("outsider", 404), ("partner", 403), ("editeur", 403),
                           ("anonymous", 302)):  # fmt: skip
        assert clients[role].get(thread).status_code == expected, (step, role)
        for snapshot in snapshots:
            url = f"/declarations/dossiers/{dossier.pk}/transmis/{snapshot.pk}/"
            assert clients[role].get(url).status_code == expected, (step, role, url)
    for snapshot in snapshots:  # the receipt's link, followed from another platform
        url = f"/declarations/dossiers/{dossier.pk}/transmis/{snapshot.pk}/"
        response = clients["other platform"].get(url)
        assert oph_has_same_pk or response.status_code == 404, (step, url)
        assert SENT_DIGITS not in _digits_free(response.content)
    # the save: the organism, in its steps (or handed back); nobody else
    save = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    body = '{"entries": {"PAS_CAPITAL": "11"}}'
    for role, client in clients.items():
        status = client.post(save, body, content_type="application/json").status_code
        if role == "owner":
            expected = 200 if step in ("1", "2", "3", "4R") else 403
        elif role == "anonymous":
            expected = 302
        elif role == "outsider":
            expected = 404
        elif role == "other platform":
            # gestionnaires reach the save (for trial dossiers): this number is not found
            expected = None if oph_has_same_pk else 404
        else:
            expected = 403
        if expected is not None:
            assert status == expected, (step, role, status)
    # « Vérifier sans importer » on the import page: the organism, in its steps; nobody else;
    # nothing written whoever asks
    with schema_context("dhup"):
        revision = Dossier.objects.get(pk=dossier.pk).revision
    check = (
        f'<declaration xmlns="urn:harmonia:formulaire:ER_SOCIAUX:1" formulaire="ER_SOCIAUX" '
        f'version="1" siren="{dossier.organism.siren}" exercice="2024"><champs>'
        f"<PAS_CAPITAL>12</PAS_CAPITAL></champs></declaration>"
    ).encode()
    for role, client in clients.items():
        upload = SimpleUploadedFile("d.xml", check)
        response = client.post(f"/declarations/dossiers/{dossier.pk}/xml/",
                               {"file": upload, "verifier": "1"})  # fmt: skip
        expected = {
            "owner": 200 if step in ("1", "2", "3", "4R") else 403,
            "anonymous": 302,
            "outsider": 404,
            "other platform": None if oph_has_same_pk else 404,
        }.get(role, 403)
        if expected is not None:
            assert response.status_code == expected, (step, role, response.status_code)
        if expected == 200:
            assert "accepterait" in response.content.decode()
        if role != "owner":
            assert SENT_DIGITS not in _digits_free(response.content), (step, role)
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).revision == revision
    # a multivalued table's row actions: the same gate as the save; this form has no table,
    # so the owner is told it does not exist (tests/declarations/test_table_grid.py runs the
    # whole matrix on a form with one)
    table = f"/declarations/dossiers/{dossier.pk}/tableaux/Filiales/"
    for role, client in clients.items():
        response = client.post(table, '{"action": "insert", "seen_count": 0}',
                               content_type="application/json")  # fmt: skip
        # gestionnaires reach the table endpoint (for trial dossiers): where they read the
        # values they are told what the owner is (no such table), else refused
        expected = {
            "owner": 404,
            "gestionnaire": 403 if hidden_for_gestionnaire else 404,
            "anonymous": 302,
            "outsider": 404,
            "other platform": None if oph_has_same_pk else 404,
        }.get(role, 403)
        if expected is not None:
            assert response.status_code == expected, (step, role, response.status_code)
        assert SENT_DIGITS not in _digits_free(response.content), (step, role)
    # the organism's own screens: « Rapatrier » and the tronc-commun authorisation
    for suffix in ("rapatrier/", "tronc-commun/"):
        url = f"/declarations/dossiers/{dossier.pk}/{suffix}"
        for role, client in clients.items():
            response = client.get(url)
            expected = {
                "owner": OWNER_SCREENS[suffix].get(step, 200),
                "anonymous": 302,
                "outsider": 404,
                "other platform": None if oph_has_same_pk else 403,
            }.get(role, 403)
            if expected is not None:
                assert response.status_code == expected, (step, role, url, response.status_code)
            if role != "owner":
                assert SENT_DIGITS not in _digits_free(response.content), (step, role, url)
    # no partner read was logged by any of this
    with schema_context("dhup"):
        assert AccessLog.objects.count() == reads_before


# the confirmation asked before an action that cannot be undone: at its step and for its role
# only, and never a value (what it says is the document, the partners and the checks' counts)
CONFIRMED = {"transmit": "3", "retransmit": "4R", "hand_back": "4", "finalise": "4",
             "archive": "5"}  # fmt: skip
OWNER_ACTIONS = {"transmit", "retransmit"}


@pytest.mark.parametrize("step", STEPS)
def test_the_confirmation_step_by_role_and_step(step, version, declarant, outsider,  # noqa: F811
                                                client_for, demo_user):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("oph"):
        oph_has_same_pk = Dossier.objects.filter(pk=dossier.pk).exists()
    clients = {
        "owner": client_for("dhup", declarant),
        "gestionnaire": client_for("dhup", gestionnaire),
        "outsider": client_for("dhup", outsider),
        "partner": client_for("dhup", demo_user("dhup", "partenaire-cdc")),
        "prefecture": client_for("dhup", demo_user("dhup", "partenaire-prefecture")),
        "editeur": client_for("dhup", demo_user("dhup", "editeur")),
        "anonymous": client_for("dhup"),
        "other platform": client_for("oph", demo_user("oph", "gestionnaire")),
    }
    base = f"/declarations/dossiers/{dossier.pk}/etape/"
    for action, at in CONFIRMED.items():
        for role, client in clients.items():
            page = client.get(f"{base}{action}/confirmer/")
            # the lifecycle form posted without « confirmation » (no JavaScript): the same page
            unconfirmed = client.post(base, {"action": action, "comment": "Motif"})
            if role in ("owner", "gestionnaire"):
                allowed = (role == "owner") == (action in OWNER_ACTIONS)
                expected = (200 if step == at else 302) if allowed else 403
                expected_post = 200 if allowed and step == at else 302
            else:
                expected = expected_post = {
                    "anonymous": 302,
                    "outsider": 404,
                    "other platform": None if oph_has_same_pk else 404,
                }.get(role, 403)
            for response, wanted in ((page, expected), (unconfirmed, expected_post)):
                if wanted is not None:
                    assert response.status_code == wanted, (step, action, role, wanted)
                if role == "anonymous":
                    assert "/comptes/" in response["Location"]
                body = _digits_free(response.content)
                assert SENT_DIGITS not in body and WIP_DIGITS not in body, (step, action, role)
            if expected == 200:
                assert 'data-testid="confirm-page"' in page.content.decode()
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).step == step  # nothing confirmed: no move


def test_the_snapshot_counts_its_own_failing_controls_not_the_live_values(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
    demo_user,
):
    """Handed back, the gestionnaire's sheet counts the blocking controls the transmitted
    values fail, not the verdicts the organism's saves keep for the values in progress."""
    from tests.declarations.test_controls import add_control

    gestionnaire = demo_user("dhup", "gestionnaire")
    add_control(version, gestionnaire, code="G1", left="ACT_IMMO", operator=">", right="600000",
                severity="blocking")  # fmt: skip
    dossier = reach("4R", declarant, gestionnaire)  # sent 987654.32 passes, 555444 fails
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).failing_controls == 1
    counts = {
        who: re.search(r'data-testid="blocking-count">([^<]+)<', client_for("dhup", user)
                       .get(f"/declarations/dossiers/{dossier.pk}/").content.decode()).group(1)
        for who, user in (("organism", declarant), ("gestionnaire", gestionnaire))
    }  # fmt: skip
    assert counts == {
        "organism": "1 contrôle bloquant en échec.",
        "gestionnaire": "Aucun contrôle bloquant en échec.",
    }


def test_handed_back_gestionnaire_reads_the_transmitted_snapshot_and_then_the_changes(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
    demo_user,
):
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach("4R", declarant, gestionnaire)
    client = client_for("dhup", gestionnaire)
    base = f"/declarations/dossiers/{dossier.pk}/"
    sheet = client.get(base)
    assert sheet.status_code == 200
    assert 'data-testid="snapshot-notice"' in sheet.content.decode()
    assert SENT_DIGITS in _digits_free(sheet.content)
    assert WIP_DIGITS not in _digits_free(sheet.content)
    exported = client.get(f"{base}xml/export/").content
    assert b"987654.32" in exported and b"555444" not in exported
    history = client.get(f"{base}historique/").content.decode()
    assert "555" not in WHITESPACE.sub("", history)
    # a PDF asked for now prints the transmitted values
    pdf = client.post(f"{base}pdf/")
    assert pdf.status_code == 302
    run_queued_jobs()
    with schema_context("dhup"):
        export = DossierExport.objects.filter(dossier=dossier, requested_by=gestionnaire).get()
        assert export.frozen_values["ACT_IMMO"] == 987654.32
        assert bytes(export.content).startswith(b"%PDF")
    # the organism transmits again: the gestionnaire reads the live values and what changed
    fire(dossier, "retransmit", declarant)
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).step == Step.FIABILISATION
    live = client.get(base)
    assert WIP_DIGITS in _digits_free(live.content)
    changes = client.get(f"{base}modifications/")
    text = _digits_free(changes.content)
    assert SENT_DIGITS in text and WIP_DIGITS in text and "ACT_IMMO" in text
    assert "1valeursaisiemodifiée" in text


def test_the_workspace_hides_the_failing_count_until_transmission(
    version,  # noqa: F811
    declarant,  # noqa: F811
    client_for,
    demo_user,
):
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach("2", declarant, gestionnaire)
    with schema_context("dhup"):
        # as if a blocking control failed: the count is the organism's until transmission
        Dossier.objects.filter(pk=dossier.pk).update(failing_controls=7)
        campaign = dossier.campaign_id
    client = client_for("dhup", gestionnaire)
    page = client.get(f"/campagnes/{campaign}/dossiers/?failing=on&document_type="
                      f"{dossier.document_type_id}")  # fmt: skip
    assert page.status_code == 200
    assert f"/declarations/dossiers/{dossier.pk}/" not in page.content.decode()
    siren = declarant.membership.organism.siren
    query = f"?document_type={dossier.document_type_id}&q={siren}"
    listing = client.get(f"/campagnes/{campaign}/dossiers/{query}").content.decode()
    assert f"/declarations/dossiers/{dossier.pk}/" in listing
    assert "Réservé à l'organisme" in listing and ">7<" not in listing
    csv = client.get(f"/campagnes/{campaign}/dossiers/export.csv{query}")
    row = next(line for line in csv.content.decode("utf-8-sig").splitlines() if siren in line)
    assert row.split(";")[6] == ""


@pytest.mark.parametrize("step", ["2", "4R"])
def test_the_api_serves_the_token_organism_only(step, version, declarant, outsider,  # noqa: F811
                                                client_for, demo_user):  # fmt: skip
    from declarations.models import ApiToken

    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        _, own = ApiToken.issue(user=declarant, name="Logiciel")
        _, other = ApiToken.issue(user=outsider, name="Logiciel")
        code, exercise = dossier.document_type.code, dossier.campaign.exercise
    url = f"/api/v1/declarations/{code}/{exercise}/xml"
    client = client_for("dhup")
    mine = client.get(url, HTTP_AUTHORIZATION=f"Bearer {own}")
    assert mine.status_code == 200
    assert (WIP_DIGITS if step == "4R" else SENT_DIGITS) in _digits_free(mine.content)
    theirs = client.get(url, HTTP_AUTHORIZATION=f"Bearer {other}")
    assert theirs.status_code == 404 and SENT_DIGITS not in _digits_free(theirs.content)
    assert client.get(url).status_code == 401
    on_oph = client_for("oph").get(url, HTTP_AUTHORIZATION=f"Bearer {own}")
    assert on_oph.status_code == 401  # a token works only on its platform


def test_trial_dossier_surfaces_by_role(version, declarant, outsider, client_for, demo_user):  # noqa: F811
    """A trial dossier (a draft version tried on the test organism): every value surface and
    the save, for every role — the platform's gestionnaires and editors only, as its owners;
    nobody else learns it exists nor reads a digit of it; no lifecycle action."""
    from tests.forms_cms.test_drafts import upload_draft
    from workflow.actions import dossier_trial_open

    gestionnaire = demo_user("dhup", "gestionnaire")
    draft = upload_draft(gestionnaire)
    with schema_context("dhup"):
        trial = dossier_trial_open(version=draft, acting_user=gestionnaire)
        dossier_values_save(dossier=trial, entries={"ACT_IMMO": SENT}, acting_user=gestionnaire)
        from declarations.pdf.tasks import dossier_pdf_request

        own_pdf = dossier_pdf_request(dossier=trial, acting_user=gestionnaire)
    run_queued_jobs()
    with schema_context("oph"):
        oph_has_same_pk = Dossier.all_objects.filter(pk=trial.pk).exists()
    organism_user = demo_user("dhup", "organisme")
    clients = {
        "gestionnaire": client_for("dhup", gestionnaire),
        "editeur": client_for("dhup", demo_user("dhup", "editeur")),
        "organisme": client_for("dhup", organism_user),
        "outsider": client_for("dhup", outsider),
        "partner": client_for("dhup", demo_user("dhup", "partenaire-cdc")),
        "prefecture": client_for("dhup", demo_user("dhup", "partenaire-prefecture")),
        "anonymous": client_for("dhup"),
        "other platform": client_for("oph", demo_user("oph", "gestionnaire")),
    }
    testers = {"gestionnaire", "editeur"}
    urls = [*value_urls(trial, own_pdf.pk), ("post", f"/declarations/essai/{draft.pk}/")]
    for role, client in clients.items():
        for method, url in urls:
            response = call(client, method, url)
            status = response.status_code
            is_own_pdf = "/pdf/" in url and not url.endswith("/pdf/")
            if role in testers:
                expected = 302 if method == "post" else 200
                if is_own_pdf and role == "editeur":
                    expected = 200  # a tester owns the trial: its PDFs are the testers'
            elif role == "anonymous":
                expected = 302
            elif role == "other platform":
                expected = None if oph_has_same_pk else (403, 404)
            elif url.startswith("/declarations/essai/"):
                expected = 403  # not a role that tries drafts
            else:
                expected = (403, 404)
            if isinstance(expected, int):
                assert status == expected, (role, method, url, status)
            elif expected is not None:
                assert status in expected, (role, method, url, status)
            if role not in testers:
                assert SENT_DIGITS not in _digits_free(response.content), (role, url)
    save = f"/declarations/dossiers/{trial.pk}/enregistrer/"
    body = '{"entries": {"PAS_CAPITAL": "11"}}'
    for role, client in clients.items():
        status = client.post(save, body, content_type="application/json").status_code
        if role in testers:
            assert status == 200, (role, status)
        elif role == "anonymous":
            assert status == 302
        elif role != "other platform" or not oph_has_same_pk:
            assert status in (403, 404), (role, status)
    # no lifecycle action on a trial, whoever asks
    step = f"/declarations/dossiers/{trial.pk}/etape/"
    for role in testers:
        clients[role].post(step, {"action": "validate"})
    with schema_context("dhup"):
        assert Dossier.all_objects.get(pk=trial.pk).step == Step.FILLING
        assert not Dossier.objects.filter(pk=trial.pk).exists()
