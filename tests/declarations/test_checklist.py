"""Finding every required field and knowing where the dossier stands: the checklist grouped
by sheet (verification page, refusal of « Valider »), the sheet tabs' counts, the completion
gauge, the six-step stepper with the hand-back reason, the confirmation of what cannot be
undone."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from declarations.services import dossier_values_save
from forms_cms.controls import control_create
from forms_cms.models import Field, FormVersion
from forms_cms.verification import dossier_checklist
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.helpers import fire, text_of
from tests.workflow.test_confidentiality_matrix import STEPS, reach
from workflow.models import Dossier, Step, StepChange
from workflow.services.lifecycle import MAX_LISTED, dossier_problems

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import upload

pytestmark = pytest.mark.django_db

TAB = re.compile(
    r'<a href="(?P<href>[^"]+)" data-sheet="(?P<sheet>[^"]+)" '
    r'data-required-empty="(?P<empty>\d+)" data-blocking="(?P<blocking>\d+)"'
)
MISSING_LINK = re.compile(
    r'<li data-testid="missing-field" data-name="(?P<name>[^"]+)"><a class="fr-link" '
    r'href="(?P<href>[^"]+)">'
)


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def make_required(version, *names):
    """Mark input fields required (all inputs when no name is given), as the gestionnaire's
    field screen would, moving the stamp that keys the fields' cache."""
    with schema_context("dhup"):
        fields = Field.objects.filter(version=version, kind=Field.Kind.INPUT)
        if names:
            fields = fields.filter(name__in=names)
        fields.update(required=True)
        FormVersion.objects.filter(pk=version.pk).update(fields_edited_at=timezone.now())


def blocking(version, user, code, left, operator, right):
    with schema_context("dhup"):
        control_create(
            version=version,
            values={"code": code, "label": f"Contrôle {code}", "kind": "comparison",
                    "left": left, "operator": operator, "right": right,
                    "severity": "blocking"},
            acting_user=user,
        )  # fmt: skip


def save(dossier, user, **entries):
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries=entries, acting_user=user)


@pytest.fixture
def big_version(gestionnaire):
    """Three sheets of 12 input amounts each (36 required fields) and a total per sheet."""
    sheets, names = {}, {}
    for number, sheet in enumerate(("Bilan", "Résultat", "Annexe"), start=1):
        cells = {"A1": f"Feuille {sheet}"}
        for row in range(2, 14):
            cells[f"A{row}"] = f"Ligne {row} de {sheet}"
            cells[f"B{row}"] = 0
            names[f"S{number}_L{row:02d}"] = f"'{sheet}'!$B${row}"
        cells["A14"] = "Total"
        cells["B14"] = "=SUM(B2:B13)"
        names[f"S{number}_TOTAL"] = f"'{sheet}'!$B$14"
        sheets[sheet] = cells
    version = upload("dhup", workbook_bytes(sheets, names), user=gestionnaire)
    make_required(version)
    return version


# the checklist ---------------------------------------------------------------------------------
def test_the_verification_page_lists_every_missing_required_field_by_sheet(
    big_version, declarant, client_for, gestionnaire
):
    dossier = open_dossier(declarant)
    save(dossier, declarant, S1_L02="1", S2_L05="2")
    blocking(big_version, gestionnaire, "B1", "S3_TOTAL", ">", "0")
    client = client_for("dhup", declarant)
    page = client.get(f"/declarations/dossiers/{dossier.pk}/verification/").content.decode()
    listed = MISSING_LINK.findall(page)
    # all 34, not the first 20
    assert len(listed) == 34 > MAX_LISTED
    expected = {f"S{n}_L{row:02d}" for n in (1, 2, 3) for row in range(2, 14)} - {
        "S1_L02",
        "S2_L05",
    }
    assert {name for name, _ in listed} == expected
    # grouped by sheet, in the form's order, each link to its sheet with the cell's anchor
    groups = re.findall(r'data-testid="checklist-sheet" data-sheet="([^"]+)"', page)
    assert groups == ["Bilan", "Résultat", "Annexe"]
    with schema_context("dhup"):
        positions = dict(big_version.sheets.values_list("name", "position"))
    for name, href in listed:
        number = int(name[1])
        sheet = ("Bilan", "Résultat", "Annexe")[number - 1]
        assert href == (f"/declarations/dossiers/{dossier.pk}/feuilles/{positions[sheet]}/#{name}")
    # a link opens the right sheet, which holds the cell with that id
    name, href = listed[-1]
    target = client.get(urlsplit(href).path)
    body = target.content.decode()
    assert target.status_code == 200
    assert f'id="{name}"' in body and f'data-n="{name}"' in body
    assert re.search(r'data-sheet="Annexe"[^>]*aria-current="page"', body)
    # the blocking control is listed with the fields, on the sheet it reads
    annexe = page[page.index('data-sheet="Annexe"') :]
    assert 'data-testid="checklist-control" data-code="B1"' in annexe
    assert "34 champs obligatoires vides et 1 contrôle bloquant en échec, sur 3 feuilles" in (
        html.unescape(page)
    )


def test_dossier_problems_keeps_its_contract_and_carries_the_checklist(big_version, declarant):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        problems = dossier_problems(Dossier.objects.get(pk=dossier.pk))
    assert len(problems) == MAX_LISTED + 1
    assert problems[-1] == "… et 16 autres champs obligatoires vides."
    assert all(p.startswith("Champ obligatoire non rempli") for p in problems[:MAX_LISTED])
    assert len(problems.checklist.missing) == 36
    assert problems.checklist.required_total == 36


def test_a_control_counts_on_each_sheet_whose_fields_it_reads(
    version,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    make_required(version, "ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL")
    blocking(version, gestionnaire, "B1", "PAS_CAPITAL", ">", "0")  # Passif
    blocking(version, gestionnaire, "B2", "TOTAL_ACTIF", "<", "TOTAL_PASSIF")  # both sheets
    blocking(version, gestionnaire, "B3", "1", "=", "1")  # passes: counted nowhere
    dossier = open_dossier(declarant)
    save(dossier, declarant, ACT_IMMO="100")
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/")
    tabs = {m["sheet"]: m for m in TAB.finditer(page.content.decode())}
    # what the database says: required input fields without a value, per sheet
    with schema_context("dhup"):
        stored = Dossier.objects.get(pk=dossier.pk).values
        required = Field.objects.filter(version=version, required=True, kind=Field.Kind.INPUT)
        empty = {}
        for field in required:
            if stored.get(field.name) in (None, ""):
                empty[field.sheet] = empty.get(field.sheet, 0) + 1
    assert (
        {s: int(m["empty"]) for s, m in tabs.items()}
        == {
            "Actif": empty.get("Actif", 0),
            "Passif": empty.get("Passif", 0),
        }
        == {"Actif": 1, "Passif": 1}
    )
    assert {s: int(m["blocking"]) for s, m in tabs.items()} == {"Actif": 1, "Passif": 2}
    text = text_of(page)
    assert "Actif · 1 obligatoire vide · 1 contrôle bloquant en échec" in re.sub(
        r"<[^>]+>", "", text
    )
    assert "Passif · 1 obligatoire vide · 2 contrôles bloquants en échec" in re.sub(
        r"<[^>]+>", "", text
    )
    # the gauge: 1 of 3 required fields filled
    assert re.search(r'data-testid="completion" data-filled="1" data-total="3"', text)
    assert '<progress class="completion__bar" max="3" value="1"' in text
    assert "(33 %)" in re.sub(r"<[^>]+>", "", text)
    assert "2 contrôles bloquants en échec." in text
    # filled: the counts go (the failing controls stay until the values satisfy them)
    save(dossier, declarant, TC_ACT_STOCKS="5", PAS_CAPITAL="10")
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/")
    tabs = {m["sheet"]: m for m in TAB.finditer(page.content.decode())}
    assert {s: int(m["empty"]) for s, m in tabs.items()} == {"Actif": 0, "Passif": 0}
    assert {s: int(m["blocking"]) for s, m in tabs.items()} == {"Actif": 1, "Passif": 1}


def test_checklist_of_a_control_reading_only_hidden_cells_goes_to_its_sheet(
    version,
    declarant,
    gestionnaire,  # noqa: F811
):
    blocking(version, gestionnaire, "B9", "1", ">", "2")  # reads no field
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        checklist = dossier_checklist(Dossier.objects.get(pk=dossier.pk))
    assert [g.sheet for g in checklist.to_fix] == ["Général"]
    assert checklist.to_fix[0].sheet_index is None
    assert [c.code for c in checklist.blocking] == ["B9"]


# the refusal of « Valider » ----------------------------------------------------------------------
def test_refused_validation_shows_one_alert_with_counts_and_a_link(
    big_version, declarant, gestionnaire, client_for
):
    blocking(big_version, gestionnaire, "B1", "S1_TOTAL", ">", "0")
    dossier = open_dossier(declarant)
    save(dossier, declarant, S2_L05="2")
    client = client_for("dhup", declarant)
    response = client.post(
        f"/declarations/dossiers/{dossier.pk}/etape/", {"action": "validate"}, follow=True
    )
    page = response.content.decode()
    alerts = re.findall(r'class="fr-alert fr-alert--sm fr-mb-1w fr-alert--error', page)
    assert len(alerts) == 1
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert (
        "« Valider la saisie » refusé : 35 champs obligatoires vides et 1 contrôle bloquant "
        "en échec (feuilles : « Bilan », « Résultat », « Annexe »)." in text
    )
    assert "Champ obligatoire non rempli" not in text and "autres champs" not in text
    link = re.search(r'<a href="([^"]+)" class="fr-link" data-testid="refusal-link">', page)
    assert link and link[1] == f"/declarations/dossiers/{dossier.pk}/verification/#a-completer"
    assert client.get(urlsplit(link[1]).path).status_code == 200
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).step == Step.FILLING


def test_other_refusals_keep_their_own_message(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    save(dossier, declarant, ACT_IMMO="1")
    response = client_for("dhup", declarant).post(
        f"/declarations/dossiers/{dossier.pk}/etape/", {"action": "transmit"}, follow=True
    )
    assert "pas possible à l'étape" in text_of(response)
    assert 'data-testid="refusal-link"' not in response.content.decode()


# where the dossier stands ------------------------------------------------------------------------
@pytest.mark.parametrize("step", STEPS)
def test_the_stepper_shows_the_step_of_the_database(
    step,
    version,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        dossier = Dossier.objects.select_related("substep").get(pk=dossier.pk)
        substep = dossier.substep.code if dossier.substep_id else None
    assert dossier.step == step
    for user in (declarant, gestionnaire):
        response = client_for("dhup", user).get(f"/declarations/dossiers/{dossier.pk}/")
        page = response.content.decode()
        stepper = re.search(
            r'data-testid="stepper" data-step="([^"]+)"( data-substep="([^"]+)")?', page
        )
        assert stepper and stepper[1] == dossier.step
        assert stepper[3] == (substep if step in ("4", "4R") else None)
        number = "4" if step == "4R" else step
        assert f'data-fr-current-step="{number}" data-fr-steps="6"' in page
        assert f"Étape {number} sur 6" in page
        if step == "4":
            assert f"Sous-étape :</span> {substep} —" in page
        assert ('data-testid="handback-reason"' in page) == (step == "4R")
        assert ('data-testid="back-to-workspace"' in page) == (user == gestionnaire)
        assert 'aria-label="vous êtes ici :"' in page


def test_the_hand_back_reason_is_shown_at_the_top(version, declarant, gestionnaire, client_for):  # noqa: F811
    dossier = reach("4R", declarant, gestionnaire)
    with schema_context("dhup"):
        change = StepChange.objects.filter(dossier=dossier, to_step="4R").latest("changed_at")
    for user in (declarant, gestionnaire):
        page = text_of(client_for("dhup", user).get(f"/declarations/dossiers/{dossier.pk}/"))
        reason = page[page.index('data-testid="handback-reason"') :]
        reason = reason[: reason.index("</div>")]
        assert "Motif : « Précisez l'actif. »" in reason
        assert (
            change.changed_at.astimezone(timezone.get_current_timezone()).strftime(
                "%d/%m/%Y à %H:%M"
            )
            in reason
        )
        assert (gestionnaire.get_full_name() or gestionnaire.username) in reason
        # at the top: before the sheet's tabs and the grid
        assert page.index('data-testid="handback-reason"') < page.index('data-testid="sheet"')
    # back in fiabilisation: the alert goes
    fire(dossier, "retransmit", declarant)
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/")
    assert 'data-testid="handback-reason"' not in page.content.decode()


def test_every_dossier_page_has_the_head(version, declarant, gestionnaire, client_for):  # noqa: F811
    dossier = reach("2", declarant, gestionnaire)
    base = f"/declarations/dossiers/{dossier.pk}/"
    # the 403 page a gestionnaire gets while the organism fills its dossier
    hidden = client_for("dhup", gestionnaire).get(base)
    assert hidden.status_code == 403
    page = hidden.content.decode()
    assert 'data-testid="stepper" data-step="2"' in page
    assert 'data-testid="back-to-workspace"' in page
    assert page.count('data-testid="breadcrumb"') == 1
    fire(dossier, "validate", declarant)
    fire(dossier, "transmit", declarant)
    owner = client_for("dhup", declarant)
    pdf = owner.post(f"{base}pdf/")
    assert pdf.status_code == 302
    pages = {
        "formulaire": base,
        "vérification": f"{base}verification/",
        "xml": f"{base}xml/",
        "historique": f"{base}historique/",
        "modifications": f"{base}modifications/",
        "tronc commun": f"{base}tronc-commun/",
        "pdf": pdf["Location"],
    }
    for name, url in pages.items():
        response = owner.get(url)
        assert response.status_code == 200, name
        page = response.content.decode()
        assert page.count('data-testid="stepper" data-step="4"') == 1, name
        assert page.count('data-testid="breadcrumb"') == 1, name
        assert f'href="{base}"' in page, name  # the dossier in the breadcrumb


def test_sync_page_has_the_head(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    response = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/rapatrier/")
    assert response.status_code == 200
    assert 'data-testid="stepper" data-step="1"' in response.content.decode()


def test_the_first_value_returns_the_new_stepper(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    url = f"/declarations/dossiers/{dossier.pk}/enregistrer/"
    client = client_for("dhup", declarant)
    body = {"entries": {"ACT_IMMO": "1"}, "seen": {"ACT_IMMO": None}, "revision": 0}
    first = client.post(url, json.dumps(body), content_type="application/json").json()
    assert 'data-step="2"' in first["stepper"]
    body = {"entries": {"ACT_IMMO": "2"}, "seen": {"ACT_IMMO": 1.0}, "revision": first["revision"]}
    second = client.post(url, json.dumps(body), content_type="application/json").json()
    assert second["stepper"] is None


# the completion on the organism's list ---------------------------------------------------------
def test_the_organisms_list_shows_each_dossiers_completion(
    version,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    make_required(version, "ACT_IMMO", "TC_ACT_STOCKS", "PAS_CAPITAL")
    dossier = open_dossier(declarant)
    save(dossier, declarant, ACT_IMMO="1", PAS_CAPITAL="2")
    page = text_of(client_for("dhup", declarant).get("/declarations/"))
    row = page[page.index(f'data-dossier="{dossier.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-filled="2" data-total="3"' in row
    assert "2 sur 3" in re.sub(r"<[^>]+>", "", row) and "(66 %)" in re.sub(r"<[^>]+>", "", row)
    assert '<progress class="completion__bar" max="3" value="2"' in row
    # hundreds of dossiers for a gestionnaire: not computed there
    assert (
        'data-testid="completion"'
        not in client_for("dhup", gestionnaire).get("/declarations/").content.decode()
    )


# confirmation of what cannot be undone ---------------------------------------------------------
def _form(page: str, action: str) -> str:
    start = page.index(f'<input type="hidden" name="action" value="{action}">')
    start = page.rindex("<form", 0, start)
    return page[start : page.index("</form>", start)]


def test_transmit_and_finalise_ask_for_confirmation(
    version,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    dossier = reach("3", declarant, gestionnaire)
    page = text_of(client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/"))
    transmit = _form(page, "transmit")
    sentence = (
        "Le dossier sera transmis aux gestionnaires de la plateforme et à vos partenaires "
        "destinataires ; vous ne pourrez plus le modifier sauf si le gestionnaire vous rend "
        "la main."
    )
    # the form posts an empty « confirmation » (without JavaScript the server answers with
    # the confirmation page, tests/declarations/test_receipts.py); the dialog says what happens
    assert '<input type="hidden" name="confirmation" value="">' in transmit
    dialog = transmit[transmit.index("<dialog") : transmit.index("</dialog>")]
    assert sentence in dialog and "data-confirm-yes" in dialog and "data-confirm-no" in dialog
    assert 'data-testid="action-preview"' in dialog
    assert 'data-confirm="confirmer-transmit"' in transmit
    assert "harmonia/confirm.js" in page
    # what can be undone by the same user asks nothing
    assert "confirmation" not in _form(page, "reopen")
    fire(dossier, "transmit", declarant)
    manager = text_of(client_for("dhup", gestionnaire).get(f"/declarations/dossiers/{dossier.pk}/"))
    finalise = _form(manager, "finalise")
    assert '<input type="hidden" name="confirmation" value="">' in finalise
    assert "la fiabilisation sera close" in finalise
    hand_back = _form(manager, "hand_back")
    assert '<input type="hidden" name="confirmation" value="">' in hand_back
    # the sub-step to move to is chosen, never pre-selected
    move = _form(manager, "move")
    options = re.findall(r"<option[^>]*>", move)
    assert options[0] == '<option value="" selected>'
    assert all("selected" not in o for o in options[1:])
    assert 'name="substep" required' in move


def test_the_sheet_runs_the_controls_on_the_stored_values_as_a_recalculation_would(
    version,  # noqa: F811
    declarant,  # noqa: F811
    gestionnaire,
):
    """The sheet page lists the failing blocking controls from the dossier's stored values
    (no recalculation of the form): the same results, messages included — a message may cite
    a field none of the rules reads."""
    from forms_cms.verification import (
        dossier_blocking_failures,
        dossier_blocking_failures_stored,
        dossier_blocking_outline,
    )

    with schema_context("dhup"):
        control_create(
            version=version,
            values={"code": "M1", "label": "Actif et passif", "kind": "comparison",
                    "left": "TOTAL_ACTIF", "operator": "=", "right": "0",
                    "severity": "blocking",
                    "message": "Actif {TOTAL_ACTIF}, capital {PAS_CAPITAL}"},
            acting_user=gestionnaire,
        )  # fmt: skip
    blocking(version, gestionnaire, "M2", "ACT_IMMO", ">", "1000")
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "120", "PAS_CAPITAL": "7"}, acting_user=declarant
        )
        stored = Dossier.objects.get(pk=dossier.pk)
        from_stored = dossier_blocking_failures_stored(stored)
        recalculated = dossier_blocking_failures(stored)
        # the sheet page's tabs: the stored verdicts' outline, no control run
        outline = dossier_blocking_outline(stored)
    assert [r.code for r in from_stored] == ["M1", "M2"]
    assert from_stored == recalculated

    def where(results):
        return [(r.code, r.sheet, r.field_sheets, [c.address for c in r.cells]) for r in results]

    assert where(outline) == where(recalculated)
    assert all(r.blocking and not r.message for r in outline)
    assert "capital 7" in from_stored[0].message
