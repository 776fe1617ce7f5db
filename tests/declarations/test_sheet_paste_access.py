"""Who may paste a block on a sheet: the organism's users while the dossier takes entries, and
nobody else; a refusal says why without a single value (tests/workflow/
test_confidentiality_matrix.py's way: every role, every step, the other organism, the other
platform, anonymous)."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django_tenants.utils import schema_context

from tests.declarations.test_online_form import declarant, outsider, version  # noqa: F401
from tests.workflow.test_confidentiality_matrix import (
    SENT_DIGITS,
    STEPS,
    WIP_DIGITS,
    _digits_free,
    reach,
)
from workflow.models import Dossier, ValueChange

pytestmark = pytest.mark.django_db

PASTED = "321987,65"  # pasted on ACT_IMMO (Actif!B3) and TC_ACT_STOCKS below it
PASTED_DIGITS = "321987"
BLOCK = f"{PASTED}\r\n12\r\n"
OPEN_STEPS = ("1", "2", "3", "4R")


@pytest.mark.parametrize("step", STEPS)
def test_the_paste_by_role_and_step(step, version, declarant, outsider, client_for,  # noqa: F811
                                    demo_user):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == step
    with schema_context("oph"):
        oph_has_same_pk = Dossier.objects.filter(pk=dossier.pk).exists()
    clients = {
        "gestionnaire": client_for("dhup", gestionnaire),
        "outsider": client_for("dhup", outsider),  # an organisme user of another organism
        "partner": client_for("dhup", demo_user("dhup", "partenaire-cdc")),
        "prefecture": client_for("dhup", demo_user("dhup", "partenaire-prefecture")),
        "editeur": client_for("dhup", demo_user("dhup", "editeur")),
        "anonymous": client_for("dhup"),
        "other platform": client_for("oph", demo_user("oph", "gestionnaire")),
        "other platform organism": client_for("oph", demo_user("oph", "organisme")),
        "owner": client_for("dhup", declarant),  # last: its paste changes the dossier
    }
    url = f"/declarations/dossiers/{dossier.pk}/feuilles/0/coller/"
    body = json.dumps({"cell": "ACT_IMMO", "text": BLOCK})
    for role, client in clients.items():
        with schema_context("dhup"):
            before = Dossier.objects.get(pk=dossier.pk)
            history = ValueChange.objects.filter(dossier=dossier).count()
        response = client.post(url, body, content_type="application/json")
        status = response.status_code
        is_open = step in OPEN_STEPS
        expected = {
            "owner": 200 if is_open else 403,
            "anonymous": 302,
            "outsider": 404,
            # gestionnaires reach the paste (for trial dossiers): this number is not found
            "other platform": None if oph_has_same_pk else 404,
            "other platform organism": None if oph_has_same_pk else 404,
        }.get(role, 403)
        if expected is not None:
            assert status == expected, (step, role, status)
        if role == "anonymous":
            assert "/comptes/" in response["Location"]
        text = _digits_free(response.content)
        if role == "owner" and is_open:
            assert response.json()["saved"]["ACT_IMMO"]["seen"] == 321987.65
            with schema_context("dhup"):
                after = Dossier.objects.get(pk=dossier.pk)
                assert after.revision == before.revision + 1
                assert ValueChange.objects.filter(dossier=dossier).count() == history + 2
            continue
        # refused: nothing changed, and no value of the dossier nor of the block in the answer
        for digits in (SENT_DIGITS, WIP_DIGITS, PASTED_DIGITS):
            assert digits not in text, (step, role, digits)
        with schema_context("dhup"):
            after = Dossier.objects.get(pk=dossier.pk)
            assert (after.values, after.revision) == (before.values, before.revision), role
            assert ValueChange.objects.filter(dossier=dossier).count() == history
        if role == "owner":
            assert "ne peut plus être modifié" in response.json()["message"]


@pytest.mark.parametrize("step", ["4", "6"])
def test_the_form_without_javascript_at_a_closed_step(step, version, declarant,  # noqa: F811
                                                      client_for, demo_user):  # fmt: skip
    dossier = reach(step, declarant, demo_user("dhup", "gestionnaire"))
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{dossier.pk}/feuilles/0/coller/"
    with schema_context("dhup"):
        before = Dossier.objects.get(pk=dossier.pk)
    response = client.post(url, {"adresse": "B3", "texte": BLOCK})
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1 and "ne peut plus être modifié" in shown[0]
    with schema_context("dhup"):
        after = Dossier.objects.get(pk=dossier.pk)
        assert (after.values, after.revision) == (before.values, before.revision)
    # the sheet of a closed dossier offers no paste
    page = client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/0/").content.decode()
    assert "coller/" not in page and 'data-testid="paste-report"' not in page
