"""A block copied from Excel pasted on a sheet of the online form: where it lands, what is saved
(one revision, one history row per changed cell), what is skipped or refused and reported."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django_tenants.utils import schema_context
from openpyxl.workbook.defined_name import DefinedName

from declarations.paste.block import BlockRefused
from declarations.services import dossier_values_save
from declarations.services.paste import dossier_block_paste
from forms_cms.models import SheetLayout
from workflow.models import Dossier, ValueChange

from ..forms_cms.test_versions import upload
from .test_online_form import declarant, open_dossier  # noqa: F401

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"
AMOUNT, PERCENT, DATE = "#,##0.00", "0.0%", "dd/mm/yyyy"
# Grille!B2:E4, inputs but C3 (a formula); totals in row 5; nothing right of E or below 5
GRID = {
    "B2": ("LOY_N1", AMOUNT, None),
    "C2": ("LOY_N", AMOUNT, None),
    "D2": ("TAUX_LOY", PERCENT, None),
    "E2": ("DATE_LOY", DATE, None),
    "B3": ("CHG_N1", AMOUNT, None),
    "C3": ("CHG_MOITIE", AMOUNT, "=C2/2"),
    "D3": ("TAUX_CHG", PERCENT, None),
    "E3": ("DATE_CHG", DATE, None),
    "B4": ("AUT_N1", AMOUNT, None),
    "C4": ("AUT_N", AMOUNT, None),
    "D4": ("TAUX_AUT", PERCENT, None),
    "E4": ("DATE_AUT", DATE, None),
    "B5": ("TOTAL_N1", AMOUNT, "=SUM(B2:B4)"),
    "C5": ("TOTAL_N", AMOUNT, "=C2+C3+C4"),
}


def grid_workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Grille"
    for address, text in {"A1": "Compte", "B1": "2023", "C1": "2024", "D1": "Taux",
                          "E1": "Date", "A2": "Loyers", "A3": "Charges", "A4": "Autres",
                          "A5": "Total"}.items():  # fmt: skip
        ws[address] = text
    for address, (name, fmt, formula) in GRID.items():
        if formula:
            ws[address] = formula
        ws[address].number_format = fmt
        wb.defined_names[name] = DefinedName(name, attr_text=f"Grille!${address[0]}${address[1:]}")
    other = wb.create_sheet("Annexe")
    other["A1"] = "Effectif"
    other["B1"].number_format = "0"
    wb.defined_names["EFFECTIF"] = DefinedName("EFFECTIF", attr_text="Annexe!$B$1")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def version(demo_user):
    return upload("dhup", grid_workbook(), user=demo_user("dhup", "gestionnaire"))


def layout_of(dossier, position=0) -> dict:
    return SheetLayout.objects.get(version=dossier.form_version, position=position).layout


def paste(dossier, user, text, cell="LOY_N1"):
    return dossier_block_paste(
        dossier=dossier, layout=layout_of(dossier), text=text, acting_user=user, anchor_name=cell
    )


def test_a_block_with_a_computed_cell_inside(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    # as Excel copies B2:D4 of the organism's own workbook: French numbers, shown percentages
    block = f"1{NNBSP}234,56\t2 000\t12,5 %\r\n300\t1000\t7%\r\n10,5\t20\t0,5 %\r\n"
    with schema_context("dhup"):
        revision = Dossier.objects.get(pk=dossier.pk).revision
        report = paste(dossier, declarant, block)
        stored = Dossier.objects.get(pk=dossier.pk)
        assert stored.values == {
            "LOY_N1": 1234.56, "LOY_N": 2000.0, "TAUX_LOY": 0.125,
            "CHG_N1": 300.0, "TAUX_CHG": 0.07,
            "AUT_N1": 10.5, "AUT_N": 20.0, "TAUX_AUT": 0.005,
        }  # fmt: skip
        assert stored.computed["CHG_MOITIE"] == 1000.0  # its formula, not the pasted 1000
        assert stored.computed["TOTAL_N1"] == 1545.06
        assert stored.revision == revision + 1  # one save
        changes = ValueChange.objects.filter(dossier=dossier)
        assert sorted(changes.values_list("field_name", flat=True)) == sorted(stored.values)
        assert {c.source for c in changes} == {ValueChange.Source.MANUAL}
        assert {c.changed_by_id for c in changes} == {declarant.pk}
    assert report.pasted == 8 and not report.refused
    assert [(s.address, s.text) for s in report.placement.skipped] == [("C3", "1000")]
    assert report.summary() == (
        "8 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule)."
    )
    assert report.lines() == [
        "C3 « Charges — 2024 » : ignorée — cellule calculée : sa formule donne la valeur."
    ]
    assert set(report.result.computed) >= {"CHG_MOITIE", "TOTAL_N1", "TOTAL_N"}


def test_invalid_values_are_reported_and_the_others_saved(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        report = paste(dossier, declarant, "100\tdeux mille\r\n12,345\t\t150 %\r\n", "LOY_N1")
        stored = Dossier.objects.get(pk=dossier.pk)
        assert stored.values == {"LOY_N1": 100.0, "TAUX_CHG": 1.5}
        assert ValueChange.objects.filter(dossier=dossier).count() == 2
    assert report.summary() == "2 valeurs collées ; 2 valeurs refusées."
    assert report.lines() == [
        "C2 « Loyers — 2024 » : « deux mille » non collée — Montant attendu : des chiffres, "
        "avec une virgule pour les décimales (ex. 1 234 567,89 ou -250).",
        "B3 « Charges — 2023 » : « 12,345 » non collée — Deux décimales au plus pour un "
        "montant (ex. 1 234,56).",
    ]


def test_nothing_valid_writes_nothing(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        before = Dossier.objects.get(pk=dossier.pk)
        report = paste(dossier, declarant, "abc\tdef\n", "LOY_N1")
        after = Dossier.objects.get(pk=dossier.pk)
        assert (after.values, after.revision, after.step) == ({}, before.revision, before.step)
        assert not ValueChange.objects.filter(dossier=dossier).exists()
    assert report.result is None
    assert report.summary() == "Aucune valeur collée ; 2 valeurs refusées."


def test_plain_numbers_and_dates(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        paste(dossier, declarant, "1234.56\t0.5\t31/12/2024\n", "LOY_N")
        paste(dossier, declarant, "2024-06-30\n", "DATE_CHG")
        stored = Dossier.objects.get(pk=dossier.pk)
    # Excel serial numbers: 31/12/2024 is 45657
    assert stored.values == {
        "LOY_N": 1234.56, "TAUX_LOY": 0.005, "DATE_LOY": 45657, "DATE_CHG": 45473,
    }  # fmt: skip


def test_a_block_larger_than_the_sheet(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        # from E3: one column fits (E), three do not; row 3, 4 and 5 fit, two lines do not
        block = "01/01/2024\t1\t2\t3\n02/01/2024\t\t\t\n9\t\t\t4\nx\n\ny\n"
        report = paste(dossier, declarant, block, "DATE_CHG")
        stored = Dossier.objects.get(pk=dossier.pk)
    assert stored.values == {"DATE_CHG": 45292, "DATE_AUT": 45293}
    assert (report.placement.columns_beyond, report.placement.lines_beyond) == (3, 2)
    assert report.lines() == [
        "E5 : ignorée — cellule en lecture seule (pas une cellule à saisir).",
        "3 colonnes au-delà de la feuille n'ont pas été collées.",
        "2 lignes au-delà de la feuille n'ont pas été collées.",
    ]
    assert report.summary() == (
        "2 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule) ; une partie du "
        "bloc dépasse la feuille."
    )
    with schema_context("dhup"):
        report = paste(dossier, declarant, "1\t2\n", "DATE_CHG")
    assert report.lines()[-1] == "1 colonne au-delà de la feuille n'a pas été collée."


def test_empty_cells_leave_values_and_unchanged_ones_write_no_history(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"LOY_N": "50", "LOY_N1": "7"},
                            acting_user=declarant)  # fmt: skip
        history = ValueChange.objects.filter(dossier=dossier).count()
        report = paste(dossier, declarant, "7\t\t10 %\n", "LOY_N1")
        stored = Dossier.objects.get(pk=dossier.pk)
        assert stored.values == {"LOY_N1": 7.0, "LOY_N": 50.0, "TAUX_LOY": 0.1}
        assert ValueChange.objects.filter(dossier=dossier).count() == history + 1
    assert (report.pasted, report.unchanged, list(report.saved)) == (2, 1, ["TAUX_LOY"])
    assert report.summary() == "2 valeurs collées (dont 1 déjà enregistrée)."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"anchor_name": "EFFECTIF", "text": "1"}, "n'est pas une cellule de la feuille"),
        ({"anchor_name": "INCONNU", "text": "1"}, "n'est pas une cellule de la feuille"),
        ({"anchor_address": "Z99", "text": "1"}, "de A1 à E5 (ex. B3)"),
        ({"anchor_address": "B-3", "text": "1"}, "n'est pas une adresse de cellule"),
        ({"anchor_name": "LOY_N1", "text": "\t\n\t\n"}, "Rien à coller"),
        ({"anchor_name": "LOY_N1", "text": "1\t" * 60_000}, "collez-le en plusieurs fois"),
    ],
)
def test_refused_blocks_change_nothing(version, declarant, kwargs, message):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        with pytest.raises(BlockRefused) as caught:
            dossier_block_paste(dossier=dossier, layout=layout_of(dossier), acting_user=declarant,
                                **kwargs)  # fmt: skip
        assert message in str(caught.value)
        assert Dossier.objects.get(pk=dossier.pk).revision == dossier.revision


def test_an_address_anchor_as_the_form_without_javascript_sends(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        report = dossier_block_paste(dossier=dossier, layout=layout_of(dossier),
                                     acting_user=declarant, anchor_address=" $a$2 ",
                                     text="Loyers\t5\t6\n")  # fmt: skip
        assert Dossier.objects.get(pk=dossier.pk).values == {"LOY_N1": 5.0, "LOY_N": 6.0}
    assert report.lines() == ["A2 : ignorée — cellule en lecture seule (pas une cellule à saisir)."]


# --- the endpoint ------------------------------------------------------------------------------
def url(dossier, index=0):
    return f"/declarations/dossiers/{dossier.pk}/feuilles/{index}/coller/"


def test_the_endpoint_answers_the_page_script(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    body = {"cell": "LOY_N1", "text": "1 000\t2000,5\t5 %\n1\tx\tabc\n", "revision": 0}
    response = client.post(url(dossier), json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["saved"] == {
        "LOY_N1": {"display": f"1{NNBSP}000,00", "seen": 1000.0},
        "LOY_N": {"display": f"2{NNBSP}000,50", "seen": 2000.5},
        "TAUX_LOY": {"display": "5,0\u00a0%", "seen": 0.05},
        "CHG_N1": {"display": "1,00", "seen": 1.0},
    }
    assert data["computed"]["CHG_MOITIE"] == f"1{NNBSP}000,25"
    assert data["report"] == [
        {
            "text": "C3 « Charges — 2024 » : ignorée — cellule calculée : sa formule donne la "
            "valeur.",
            "field": None,
        },
        {
            "text": "D3 « Charges — Taux » : « abc » non collée — Pourcentage attendu (ex. "
            "12,5 %).",
            "field": "TAUX_CHG",
        },
    ]
    assert data["message"] == (
        "4 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule) ; 1 valeur refusée."
    )
    assert data["step"] == "2 — En cours de saisie" and data["stepper"]
    assert data["revision"] == 1 and data["others"] is False


def test_the_form_without_javascript(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    page = client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/0/")
    assert f'action="{url(dossier)}"' in page.content.decode()
    response = client.post(url(dossier), {"adresse": "C4", "texte": "3\t4 %\n5\n"})
    assert response.status_code == 302
    assert response["Location"] == f"/declarations/dossiers/{dossier.pk}/feuilles/0/"
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == [
        "2 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule).",
        "C5 « Total — 2024 » : ignorée — cellule calculée : sa formule donne la valeur.",
    ]
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).values == {"AUT_N": 3.0, "TAUX_AUT": 0.04}
    response = client.post(url(dossier), {"adresse": "Z1", "texte": "3"})
    assert [str(m) for m in get_messages(response.wsgi_request)][-1].startswith("« Z1 » n'est")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("[]", 400, "Requête illisible."),
        ('{"cell": "LOY_N1", "text": "1", "revision": "x"}', 400, "Requête illisible."),
        ('{"cell": "EFFECTIF", "text": "1"}', 400, "n'est pas une cellule"),
    ],
)
def test_unreadable_requests(version, declarant, client_for, body, status, message):  # noqa: F811
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    response = client.post(url(dossier), body, content_type="application/json")
    assert response.status_code == status
    assert message in response.json()["message"]
    assert client.post(url(dossier, 7), "{}", content_type="application/json").status_code == 404


def test_a_body_too_large_is_refused_before_reading(version, declarant, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)
    body = json.dumps({"cell": "LOY_N1", "text": "1\t" * 600_000})
    response = client.post(url(dossier), body, content_type="application/json")
    assert response.status_code == 413
    assert "1 Mo au plus" in response.json()["message"]


def test_the_query_count_of_a_paste(version, declarant, client_for):  # noqa: F811
    """A change here is a decision: a paste costs one save whatever the size of the block."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dossier = open_dossier(declarant)
    client = client_for("dhup", declarant)

    def paste_block(block):
        body = json.dumps({"cell": "LOY_N1", "text": block, "revision": 1})
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url(dossier), body, content_type="application/json")
        assert response.status_code == 200
        return len(queries)

    paste_block("1\n")  # the first value: step 2 (a transition, recorded), caches warmed
    one = paste_block("2\n")
    nine = paste_block("3\t4\t5\n6\t7\t8\n9\t10\t11\n")
    assert one == nine == PASTE_QUERIES, (one, nine)


# the cell save's 12 (tests/workflow/test_write_gate.py), and the pasted sheet's layout
PASTE_QUERIES = 13


def test_a_whole_sheet_copied_counts_its_formulas_rather_than_listing_them(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        # from A1: the header row and column A are labels, C3 and B5:C5 formulas
        block = "\r\n".join("\t".join(["1"] * 5) for _ in range(5))
        report = dossier_block_paste(dossier=dossier, layout=layout_of(dossier),
                                     acting_user=declarant, anchor_address="A1",
                                     text=block)  # fmt: skip
    assert (report.pasted, len(report.refused)) == (8, 3)  # « 1 » is no date
    assert report.lines()[:2] == [
        "11 cellules ignorées — cellule en lecture seule (pas une cellule à saisir) (A1, B1, "
        "C1, …, E5).",
        "3 cellules ignorées — cellule calculée : sa formule donne la valeur (C3, B5, C5).",
    ]


# --- the placement alone (pure): hidden rows and columns, merged cells, a table's rows --------
def _info(name, row, col, computed=False):
    from forms_cms.fields import FieldInfo

    return FieldInfo(name, "S", row, col, computed, "amount", "", (), name.title(), False)


def test_the_block_follows_the_visible_grid():
    from declarations.paste.block import block_placement
    from forms_cms.fields import TableMeta

    # B..E visible but C hidden; row 3 hidden; B5:C5 merged (an input); rows 6-7: a table
    fields = {
        "B2": _info("B2", 2, 2), "D2": _info("D2", 2, 4), "E2": _info("E2", 2, 5),
        "B4": _info("B4", 4, 2), "D4": _info("D4", 4, 4, computed=True),
        "B5": _info("B5", 5, 2), "D5": _info("D5", 5, 4),
    }  # fmt: skip
    layout = {
        "name": "S",
        "max_row": 7,
        "max_col": 5,
        "columns": [8, 8, 0, 8, 8],
        "rows": [[3, 0]],
        "merged": [[5, 4, 5, 5]],
        "cells": [
            {"r": r, "c": c, "kind": "computed" if fields[n].computed else "input", "name": n}
            for n, (r, c) in ((n, (f.row, f.column)) for n, f in fields.items())
        ],
    }
    table = TableMeta("T", "S", None, 6, 6, None, 10, (_info("T_A", 6, 2),))
    block = "1\t2\t3\r\n4\t5\t6\r\n7\t8\t9\r\n10\r\n11\r\n"
    placement = block_placement(layout, fields, [table], (2, 2), block)
    # line 1 → row 2 (B, D, E: C is hidden); line 2 → row 4 (3 is hidden); line 3 → row 5,
    # whose D5:E5 is merged; line 4 → row 6, the table's; line 5 → row 7, empty
    assert [(e.address, e.text, e.field.name) for e in placement.entries] == [
        ("B2", "1", "B2"), ("D2", "2", "D2"), ("E2", "3", "E2"),
        ("B4", "4", "B4"), ("B5", "7", "B5"), ("D5", "8", "D5"),
    ]  # fmt: skip
    assert [(s.address, s.reason.split(" ")[0]) for s in placement.skipped] == [
        ("D4", "cellule"),  # computed
        ("E4", "cellule"),  # nothing there: read-only
        ("E5", "cellule"),  # the hidden part of D5:E5
        ("B6", "ligne"),  # a table's row
        ("B7", "cellule"),
    ]
    assert [s.reason for s in placement.skipped][:2] == [
        "cellule calculée : sa formule donne la valeur",
        "cellule en lecture seule (pas une cellule à saisir)",
    ]
    assert (placement.columns_beyond, placement.lines_beyond) == (0, 0)
    with pytest.raises(BlockRefused, match="La cellule C2 est masquée dans la feuille « S »"):
        block_placement(layout, fields, [table], (2, 3), "1\t2")


def test_others_changes_meanwhile_are_said(version, declarant, demo_user, client_for):  # noqa: F811
    dossier = open_dossier(declarant)
    colleague = demo_user("dhup", "organisme2")  # the same organism's other user
    client = client_for("dhup", declarant)
    body = {"cell": "LOY_N1", "text": "1\t2\n", "revision": 0}
    response = client.post(url(dossier), json.dumps(body), content_type="application/json")
    assert response.json()["others"] is False
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"AUT_N": "5"}, acting_user=colleague)
    body = {"cell": "LOY_N1", "text": "3\t4\n", "revision": response.json()["revision"]}
    response = client.post(url(dossier), json.dumps(body), content_type="application/json")
    assert response.json()["others"] is True


def test_a_cell_a_colleague_changed_meanwhile_is_not_pasted_over(version, declarant, demo_user,  # noqa: F811
                                                                  client_for):  # fmt: skip
    dossier = open_dossier(declarant)
    colleague = demo_user("dhup", "organisme2")  # the same organism's other user
    client = client_for("dhup", declarant)
    # the page was drawn with C2 and D2 empty; the colleague then types C2
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"LOY_N": "75"}, acting_user=colleague)
    seen = {"LOY_N1": None, "LOY_N": None, "TAUX_LOY": None}
    body = {"cell": "LOY_N1", "text": "1\t2\t3 %\n", "revision": 0, "seen": seen}
    response = client.post(url(dossier), json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert set(data["saved"]) == {"LOY_N1", "TAUX_LOY"}
    assert data["current"] == {"LOY_N": {"display": "75,00", "seen": 75.0}}
    [line] = [item for item in data["report"] if item["field"]]
    assert line["field"] == "LOY_N"
    assert line["text"].startswith("C2 « Loyers — 2024 » : « 2 » non collée — Modifié entre-temps")
    assert "valeur actuelle : 75,00" in line["text"]
    with schema_context("dhup"):
        stored = Dossier.objects.get(pk=dossier.pk)
        assert stored.values == {"LOY_N": 75.0, "LOY_N1": 1.0, "TAUX_LOY": 0.03}
        assert stored.revision == 2  # the colleague's save, then the paste's one
    body["seen"] = ["not", "a", "dict"]
    response = client.post(url(dossier), json.dumps(body), content_type="application/json")
    assert response.status_code == 400
