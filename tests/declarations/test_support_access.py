"""Who may download the filled Excel support and import one: every role × every step, the
other organism, the other platform; no value in the body of anyone who may not read it, and a
gestionnaire reading the transmitted snapshot (never the work in progress) while the dossier is
handed back."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from forms_cms.support import dossier_support
from tests.declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from tests.workflow.test_confidentiality_matrix import SENT_DIGITS, STEPS, WIP_DIGITS, reach
from workflow.models import Dossier, ValueChange

pytestmark = pytest.mark.django_db
WHITESPACE = re.compile(r"[\s\u00a0\u202f]")


def _digits_free(body: bytes) -> str:
    return WHITESPACE.sub("", body.decode("utf-8", "replace"))


def _act_immo(content: bytes):
    """ACT_IMMO's value in a downloaded support."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ((sheet, coord),) = list(wb.defined_names["ACT_IMMO"].destinations)
    return wb[sheet][coord.replace("$", "")].value


@pytest.mark.parametrize("step", STEPS)
def test_support_download_and_import_by_role_and_step(step, version, declarant, outsider,  # noqa: F811
                                                      client_for, demo_user):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == step
        own_support = dossier_support(dossier)  # a valid file to post, the owner's own values
        history = ValueChange.objects.filter(dossier=dossier).count()
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
    download = f"/declarations/dossiers/{dossier.pk}/support.xlsx"
    page = f"/declarations/dossiers/{dossier.pk}/xml/"
    hidden = step in ("1", "2", "3")
    editable = step in ("1", "2", "3", "4R")
    for role, client in clients.items():
        response = client.get(download)
        status = response.status_code
        if role == "owner" or (role == "gestionnaire" and not hidden):
            assert status == 200, (step, role, status)
            value = _act_immo(response.content)
            if role == "owner" and step == "4R":
                assert value == 555444.11  # the organism's work in progress
            elif step != "1":
                assert value == 987654.32, (step, role, value)  # for the gestionnaire at 4R:
                # the transmitted snapshot
            continue
        expected = {
            "gestionnaire": 403,  # steps 1–3: the explanation page, no value
            "anonymous": 302,
            "outsider": 404,
            "other platform": None if oph_has_same_pk else 404,
        }.get(role, 403)  # partners, editors: not a dossier screen of theirs
        if expected is not None:
            assert status == expected, (step, role, status)
        assert not response.get("Content-Type", "").startswith("application/vnd"), (step, role)
        body = _digits_free(response.content)
        assert SENT_DIGITS not in body and WIP_DIGITS not in body, (step, role)
        if role == "gestionnaire":
            assert "seul l'organisme a accès aux données" in response.content.decode().replace(
                "&#x27;", "'"
            )
    # the import: the organism, while its dossier accepts entries; nobody else, ever
    for role, client in clients.items():
        upload = SimpleUploadedFile("support.xlsx", own_support)
        response = client.post(page, {"support": upload})
        status = response.status_code
        if role == "owner":
            expected = 200 if editable else 403
        elif role == "gestionnaire":
            expected = 403
        elif role == "anonymous":
            expected = 302
        elif role == "outsider":
            expected = 404
        elif role == "other platform":
            expected = None if oph_has_same_pk else 404
        else:
            expected = 403
        if expected is not None:
            assert status == expected, (step, role, status)
        if role != "owner":
            body = _digits_free(response.content)
            assert SENT_DIGITS not in body and WIP_DIGITS not in body, (step, role)
        if role == "owner" and editable:
            assert "Import du support Excel effectué" in response.content.decode()
    with schema_context("dhup"):  # nobody changed anything (the owner's file held its values)
        assert ValueChange.objects.filter(dossier=dossier).count() == history


def test_gestionnaire_page_shows_download_but_no_import(version, declarant, demo_user,  # noqa: F811
                                                       client_for):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach("4", declarant, gestionnaire)
    page = client_for("dhup", gestionnaire).get(f"/declarations/dossiers/{dossier.pk}/xml/")
    text = page.content.decode()
    assert f"/declarations/dossiers/{dossier.pk}/support.xlsx" in text
    assert 'name="support"' not in text


def test_open_dossier_first_download_by_owner(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    response = client_for("dhup", declarant).get(
        f"/declarations/dossiers/{dossier.pk}/support.xlsx"
    )
    assert response.status_code == 200
    assert _act_immo(response.content) is None  # nothing entered: the input cell is empty
