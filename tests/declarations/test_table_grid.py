"""A multivalued table in the online form: drawn with the dossier's rows where it stands in
the sheet, changed row by row through its endpoint (JSON from the page's script, or the
table's form without JavaScript), refusals naming row and column, and who may do it."""

from __future__ import annotations

import json
import re

import pytest
from django_tenants.utils import schema_context
from lxml import html as lxml_html

from declarations.services import dossier_table_save
from declarations.tables.paste import PasteRefused, paste_rows
from fixtures.parity_corpus.tables import table_workbook
from forms_cms.fields import version_tables
from tests.helpers import fire
from workflow.models import Dossier, Step

from ..forms_cms.test_versions import upload
from .test_online_form import open_dossier, outsider  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"
SENTINEL = "987654,32"  # a capital whose digits never appear in a page by chance
SENTINEL_DIGITS = "987654"
WHITESPACE = re.compile(r"[\s\u00a0\u202f]")


@pytest.fixture
def version(demo_user):
    content = table_workbook([], max_rows=4)
    return upload("dhup", content, user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def client(declarant, client_for):
    return client_for("dhup", declarant)


def url(dossier, table="Filiales"):
    return f"/declarations/dossiers/{dossier.pk}/tableaux/{table}/"


def post(client, dossier, **body):
    return client.post(url(dossier), json.dumps(body), content_type="application/json")


def rows_of(dossier):
    with schema_context("dhup"):
        return Dossier.objects.get(pk=dossier.pk).values.get("Filiales", [])


def fill(dossier, user, rows):
    with schema_context("dhup"):
        dossier_table_save(dossier=dossier, table="Filiales", action="replace", rows=rows,
                           acting_user=user)  # fmt: skip


def drawn(page: bytes) -> list[tuple[str, list[str]]]:
    """Each drawn row of the sheet: (row header, texts or input values of its cells)."""
    tree = lxml_html.fromstring(page)
    out = []
    for tr in tree.xpath('//table[@data-testid="sheet"]/tbody/tr'):
        head = tr.xpath("th")
        cells = []
        for td in tr.xpath("td"):
            control = td.xpath(".//input|.//select")
            cells.append(control[0].get("value") or "" if control else td.text_content().strip())
        out.append((head[0].text_content() if head else "", cells))
    return out


# --- drawing ------------------------------------------------------------------------------------
def test_a_blank_table_shows_one_row_to_type_in(version, declarant, client):
    dossier = open_dossier(declarant)
    page = client.get(f"/declarations/dossiers/{dossier.pk}/").content
    text = page.decode()
    rows = drawn(page)
    assert [head for head, _ in rows] == ["1", "2", "3", "4", "", "5", "6"]  # "": the buttons
    assert rows[3][1][1:7] == ["", "", "", "", "", ""]  # the blank row
    assert re.search(r'<tr data-tb="Filiales" data-i="0" data-sr="4" data-blank', text)
    assert "0 ligne · encore 4 possibles (4 au plus)." in text
    assert rows[6][1][1:3] == ["Total", "0"]  # the total below the table
    assert 'id="Filiales"' in text  # the table's header: the anchor of links to the table
    assert 'data-testid="table-help"' in text and "Ctrl</kbd>+<kbd>Suppr" in text


def test_the_dossier_rows_replace_the_template_row_and_push_the_rows_below(
    version, declarant, client
):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": "Alpha", "FIL_CAPITAL": "1000", "FIL_POURCENTAGE": "50"},
                              {"FIL_NOM": "Beta", "FIL_CAPITAL": "3000"},
                              {"FIL_NOM": "Gamma"}])  # fmt: skip
    page = client.get(f"/declarations/dossiers/{dossier.pk}/").content
    rows = drawn(page)
    assert [head for head, _ in rows] == ["1", "2", "3", "4", "5", "6", "", "7", "8"]
    alpha = rows[3][1]
    assert alpha[1:7] == ["Alpha", f"1{NNBSP}000,00", "50,00\u00a0%", "500,00", "", "12,50\u00a0%"]
    assert rows[4][1][1:3] == ["Beta", f"3{NNBSP}000,00"]
    assert rows[8][1][1:5] == ["Total", f"4{NNBSP}000", "", "500"]  # moved two rows down
    tree = lxml_html.fromstring(page)
    capital = tree.xpath('//input[@data-tb="Filiales" and @data-i="1" and @data-f="FIL_CAPITAL"]')[
        0
    ]
    assert capital.get("data-t") == "amount" and capital.get("data-r") == "5"
    assert capital.get("aria-label") == "Capital — ligne 2 du tableau Filiales"
    assert capital.get("form") == "tb-Filiales" and capital.get("name") == "c.1.FIL_CAPITAL"
    part = tree.xpath('//td[@data-f="FIL_PART"]')
    assert [td.get("class") for td in part] == ["c amount"] * 3  # calculated: read-only
    buttons = tree.xpath('//tr[@data-i="0"]//button[@name="op"]')
    assert [(b.get("value"), b.get("aria-keyshortcuts"), b.get("disabled")) for b in buttons] == [
        ("insert:0", "Control+Shift+Enter", None),
        ("up:0", "Alt+ArrowUp", "disabled"),  # the first row cannot go up
        ("down:0", "Alt+ArrowDown", None),
        ("delete:0", "Control+Delete", None),
    ]
    assert "3 lignes · encore 1 possible (4 au plus)." in page.decode()


def test_a_reader_sees_the_rows_without_controls(version, declarant, client_for, demo_user):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": "Alpha", "FIL_CAPITAL": SENTINEL}])
    fire(dossier, "validate", declarant)
    fire(dossier, "transmit", declarant)
    gestionnaire = client_for("dhup", demo_user("dhup", "gestionnaire"))
    page = gestionnaire.get(f"/declarations/dossiers/{dossier.pk}/").content
    tree = lxml_html.fromstring(page)
    assert tree.xpath('//input[@data-f="FIL_NOM"]')[0].get("disabled") is not None
    assert not tree.xpath("//button[@name='op']") and not tree.xpath("//form[@class='tb-form']")
    assert SENTINEL_DIGITS in WHITESPACE.sub("", page.decode())
    assert b"dossier_tables.js" not in page


# --- the endpoint, as the page's script calls it ---------------------------------------------
def test_each_row_action_returns_the_rows_and_what_it_changed(version, declarant, client):
    dossier = open_dossier(declarant)
    # typing in the blank row inserts the first row
    first = post(client, dossier, action="insert", index=0, entries={"FIL_NOM": "Alpha"},
                 seen_count=0).json()  # fmt: skip
    assert (first["count"], first["start"], first["message"]) == (1, 0, "Ligne ajoutée.")
    assert 'data-i="0"' in first["html"] and 'value="Alpha"' in first["html"]
    assert "data-blank" not in first["html"] and "data-tool" in first["html"]
    assert first["step"] == "2 — En cours de saisie" and first["stepper"]
    # a cell of a row: saved in place, the calculated columns and the total below refresh
    post(client, dossier, action="update", index=0, seen_count=1, entries={"FIL_POURCENTAGE": "50"})
    saved = post(client, dossier, action="update", index=0, seen_count=1,
                 entries={"FIL_CAPITAL": "1000"}).json()  # fmt: skip
    assert saved["start"] is None and saved["html"] == ""
    assert saved["cells"]["FIL_CAPITAL"] == f"1{NNBSP}000,00"
    assert saved["computed"]["OUT_BELOW_CAPITAL"] == f"1{NNBSP}000"
    assert saved["tables"]["Filiales"] == [{"FIL_PART": "500,00", "FIL_RATIO": "50,00\u00a0%"}]
    # « Ajouter une ligne » and an insertion above the first row
    added = post(client, dossier, action="insert", index=1, seen_count=1).json()
    assert (added["count"], added["start"]) == (2, 0)
    assert added["room"] == "2 lignes · encore 2 possibles (4 au plus)."
    above = post(client, dossier, action="insert", index=0, seen_count=2,
                 entries={"FIL_NOM": "Zéro", "FIL_CAPITAL": "5"}).json()  # fmt: skip
    assert above["count"] == 3
    assert [r.get("FIL_NOM") for r in rows_of(dossier)] == ["Zéro", "Alpha", None]
    assert above["computed"]["OUT_BELOW_CAPITAL"] == f"1{NNBSP}005"
    assert above["tables"]["Filiales"][1]["FIL_PART"] == "500,00"  # Alpha, now row 2
    # move Alpha up, then delete the empty last row
    moved = post(client, dossier, action="move", index=1, to=0, seen_count=3).json()
    assert moved["message"] == "Ligne déplacée."
    assert [r.get("FIL_NOM") for r in rows_of(dossier)] == ["Alpha", "Zéro", None]
    deleted = post(client, dossier, action="delete", index=2, seen_count=3).json()
    assert (deleted["count"], deleted["message"]) == (2, "Ligne supprimée.")
    # two lines pasted from Excel on Zéro's name: the second is added
    pasted = post(client, dossier, action="paste", index=1, column="FIL_NOM", seen_count=2,
                  text="Beta\t2 500,50\t10 %\r\nGamma\t300\t0,5\r\n").json()  # fmt: skip
    assert pasted["message"] == "2 lignes collées."
    assert rows_of(dossier) == [
        {"FIL_NOM": "Alpha", "FIL_CAPITAL": 1000, "FIL_POURCENTAGE": 0.5},
        {"FIL_NOM": "Beta", "FIL_CAPITAL": 2500.5, "FIL_POURCENTAGE": 0.1},
        {"FIL_NOM": "Gamma", "FIL_CAPITAL": 300, "FIL_POURCENTAGE": 0.005},
    ]
    assert pasted["computed"]["OUT_BELOW_CAPITAL"] == f"3{NNBSP}800,50"
    assert pasted["count"] == 3 and pasted["start"] == 0


def test_a_row_holding_values_is_deleted_only_once_confirmed(version, declarant, client):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": "Alpha", "FIL_CAPITAL": "1000"}, {}])
    asked = post(client, dossier, action="delete", index=0, seen_count=2)
    assert asked.status_code == 409
    assert asked.json() == {
        "confirm": f"Supprimer la ligne 1 du tableau « Filiales » (Nom : Alpha ; Capital : "
        f"1{NNBSP}000,00) ?"
    }
    assert len(rows_of(dossier)) == 2
    assert post(client, dossier, action="delete", index=1, seen_count=2).status_code == 200
    confirmed = post(client, dossier, action="delete", index=0, seen_count=1, confirmed=True)
    assert confirmed.status_code == 200 and rows_of(dossier) == []
    assert "data-blank" in confirmed.json()["html"]  # the empty table's row to type in


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"action": "update", "index": 0, "seen_count": 1, "entries": {"FIL_CAPITAL": "douze"}},
         400, "Ligne 1, colonne « Capital » : Montant attendu"),
        ({"action": "update", "index": 0, "seen_count": 1, "entries": {"FIL_PART": "3"}},
         400, "Ligne 1 : la colonne « Part » est calculée."),
        ({"action": "paste", "index": 0, "seen_count": 1, "column": "FIL_NOM",
          "text": "A\t1\nB\tdeux\n"}, 400, "Ligne 2, colonne « Capital » : Montant attendu"),
        ({"action": "paste", "index": 0, "seen_count": 1, "column": "FIL_RATIO",
          "text": "1\t2\n"}, 400, "Le collage compte 2 colonnes à partir de « Ratio »"),
        ({"action": "paste", "index": 0, "seen_count": 1, "column": "FIL_NOM",
          "text": "A\nB\nC\nD\nE\n"}, 400, "Le tableau « Filiales » compte au plus 4 lignes"),
        ({"action": "insert", "index": 0, "seen_count": 0}, 400, "modifié entre-temps"),
        ({"action": "update", "index": 5, "seen_count": 1, "entries": {}},
         400, "La ligne 6 n'existe plus"),
        ({"action": "explode", "seen_count": 1}, 400, "Requête illisible."),
        ({"action": "insert"}, 400, "Requête illisible."),  # no seen_count
    ],
)  # fmt: skip
def test_refusals_say_which_row_and_column_and_change_nothing(
    version, declarant, client, body, status, message
):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": "Alpha", "FIL_CAPITAL": "1000"}])
    response = post(client, dossier, **body)
    assert response.status_code == status
    assert message in response.json()["message"]
    assert rows_of(dossier) == [{"FIL_NOM": "Alpha", "FIL_CAPITAL": 1000}]


def test_the_cap_is_enforced_and_the_add_button_says_so(version, declarant, client):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": str(i)} for i in range(4)])
    page = client.get(f"/declarations/dossiers/{dossier.pk}/").content.decode()
    assert "Tableau complet : 4 lignes au plus." in page
    assert re.search(
        r'class="tb-add" aria-describedby="tb-room-Filiales" aria-disabled="true"', page
    )
    refused = post(client, dossier, action="insert", index=4, seen_count=4)
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "Le tableau « Filiales » compte au plus 4 lignes : supprimez des lignes avant d'en "
        "ajouter (ou regroupez-les)."
    )


def test_unknown_tables_and_unreadable_requests(version, declarant, client):
    dossier = open_dossier(declarant)
    assert post(client, dossier.__class__(pk=dossier.pk), action="insert").status_code == 400
    response = client.post(url(dossier, "Inconnu"), "{}", content_type="application/json")
    assert response.status_code == 404
    assert client.post(url(dossier), "{oops", content_type="application/json").status_code == 400
    assert client.get(url(dossier)).status_code == 405


# --- the table's form, without JavaScript ------------------------------------------------------
def test_without_javascript_each_button_posts_the_form_and_comes_back(version, declarant, client):
    dossier = open_dossier(declarant)
    sheet = f"/declarations/dossiers/{dossier.pk}/feuilles/0/#Filiales"
    # typed in the blank row, then « Enregistrer » (or Enter): the row is added
    saved = client.post(
        url(dossier),
        {
            "op": "save",
            "seen_count": "0",
            "c.0.FIL_NOM": "Alpha",
            "c.0.FIL_CAPITAL": "1 000",
            "c.0.FIL_POURCENTAGE": "",
        },
    )
    assert (saved.status_code, saved["Location"]) == (302, sheet)
    assert rows_of(dossier) == [{"FIL_NOM": "Alpha", "FIL_CAPITAL": 1000}]
    # « Ajouter une ligne » with a cell changed meanwhile: both are saved
    client.post(
        url(dossier),
        {
            "op": "add",
            "seen_count": "1",
            "c.0.FIL_NOM": "Alpha",
            "c.0.FIL_CAPITAL": "1 000,00",
            "c.0.FIL_POURCENTAGE": "25",
        },
    )
    assert rows_of(dossier) == [
        {"FIL_NOM": "Alpha", "FIL_CAPITAL": 1000, "FIL_POURCENTAGE": 0.25},
        {},
    ]
    client.post(url(dossier), {"op": "insert:0", "seen_count": "2"})
    client.post(url(dossier), {"op": "down:1", "seen_count": "3"})
    assert [r.get("FIL_NOM") for r in rows_of(dossier)] == [None, None, "Alpha"]
    client.post(url(dossier), {"op": "up:2", "seen_count": "3"})
    assert [r.get("FIL_NOM") for r in rows_of(dossier)] == [None, "Alpha", None]
    # an empty row goes at once; one holding values asks first, on a page of its own
    client.post(url(dossier), {"op": "delete:2", "seen_count": "3"})
    asked = client.post(url(dossier), {"op": "delete:1", "seen_count": "2", "c.0.FIL_NOM": "Zéro"})
    assert asked.status_code == 200
    text = asked.content.decode()
    assert "Supprimer la ligne 2 du tableau « Filiales » ?" in text
    assert "Nom : Alpha" in text and 'name="c.0.FIL_NOM" value="Zéro"' in text
    assert len(rows_of(dossier)) == 2
    done = client.post(url(dossier), {"op": "delete:1", "seen_count": "2", "confirmer": "1",
                                      "c.0.FIL_NOM": "Zéro"})  # fmt: skip
    assert done.status_code == 302
    assert rows_of(dossier) == [{"FIL_NOM": "Zéro"}]
    page = client.get(done["Location"]).content.decode()
    assert "Saisies du tableau enregistrées. Ligne supprimée." in page


def test_without_javascript_a_refusal_is_shown_on_the_sheet(version, declarant, client):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": "Alpha"}])
    refused = client.post(url(dossier), {"op": "save", "seen_count": "1", "c.0.FIL_CAPITAL": "x"},
                          follow=True)  # fmt: skip
    assert "Ligne 1, colonne « Capital » : Montant attendu" in refused.content.decode()
    full = [{"FIL_NOM": str(i)} for i in range(4)]
    fill(dossier, declarant, full)
    capped = client.post(url(dossier), {"op": "add", "seen_count": "4"}, follow=True)
    assert "compte au plus 4 lignes" in capped.content.decode()
    assert len(rows_of(dossier)) == 4


# --- pasting ----------------------------------------------------------------------------------
def test_pasted_lines_fill_rightwards_over_the_table_columns(version):
    with schema_context("dhup"):
        meta = version_tables(version)["Filiales"]
    pasted = paste_rows(meta, "FIL_CAPITAL", '12\t50 %\t999\tSA\r\n\t\t\t"S\tA"\r\n')
    assert pasted.rows == [
        {"FIL_CAPITAL": "12", "FIL_POURCENTAGE": "50 %", "FIL_CATEGORIE": "SA"},
        {"FIL_CATEGORIE": "S\tA"},  # empty cells leave the values in place
    ]
    assert pasted.notes == [
        "Les valeurs collées sur la colonne calculée « Part » sont ignorées (elle est calculée)."
    ]
    # a list of the input columns only (Nom, Capital, Pourcentage, Catégorie)
    own = paste_rows(meta, "FIL_NOM", "Alpha\t1 000\t5 %\tSA\nBeta\t\t\tSCI\n")
    assert own.rows == [
        {"FIL_NOM": "Alpha", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "5 %",
         "FIL_CATEGORIE": "SA"},
        {"FIL_NOM": "Beta", "FIL_CATEGORIE": "SCI"},
    ]  # fmt: skip
    assert own.notes == []
    assert paste_rows(meta, "FIL_RATIO", "\t\t\n").rows == [{}]  # empty cells beyond: no harm
    with pytest.raises(PasteRefused, match="Rien à coller"):
        paste_rows(meta, "FIL_NOM", "\r\n")
    with pytest.raises(PasteRefused, match="n'existe pas"):
        paste_rows(meta, "FIL_X", "a\tb")


# --- who may change a table ----------------------------------------------------------------------
STEPS = ["1", "2", "3", "4", "4R", "5", "6"]


def reach(step, declarant, gestionnaire):
    """A dossier of the table form brought to ``step`` through the real services."""
    dossier = open_dossier(declarant)
    if step == "1":
        return dossier
    fill(dossier, declarant, [{"FIL_NOM": "Alpha", "FIL_CAPITAL": SENTINEL}])
    if step == "2":
        return dossier
    fire(dossier, "validate", declarant)
    if step == "3":
        return dossier
    fire(dossier, "transmit", declarant)
    if step == "4":
        return dossier
    if step == "4R":
        fire(dossier, "hand_back", gestionnaire, comment="Précisez les filiales.")
        return dossier
    fire(dossier, "finalise", gestionnaire)
    if step == "6":
        fire(dossier, "archive", gestionnaire)
    return dossier


@pytest.mark.parametrize("step", STEPS)
def test_only_the_organism_changes_its_table_while_it_has_the_hand(
    step,
    version,
    declarant,
    outsider,
    client_for,
    demo_user,  # noqa: F811
):
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = reach(step, declarant, gestionnaire)
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.step == step
        count = len(dossier.values.get("Filiales", []))
    with schema_context("oph"):
        oph_has_same_pk = Dossier.objects.filter(pk=dossier.pk).exists()
    clients = {
        "owner": client_for("dhup", declarant),
        "gestionnaire": client_for("dhup", gestionnaire),
        "outsider": client_for("dhup", outsider),
        "partner": client_for("dhup", demo_user("dhup", "partenaire-cdc")),
        "editeur": client_for("dhup", demo_user("dhup", "editeur")),
        "anonymous": client_for("dhup"),
        "other platform": client_for("oph", demo_user("oph", "organisme")),
    }
    writable = step in (Step.INITIALISED, Step.FILLING, Step.VALIDATED, Step.HANDED_BACK)
    body = json.dumps({"action": "insert", "index": count, "seen_count": count})
    for role, client in clients.items():
        as_json = client.post(url(dossier), body, content_type="application/json")
        # the owner's JSON request added a row when it had the hand
        seen = count + 1 if role == "owner" and writable else count
        as_form = client.post(url(dossier), {"op": "add", "seen_count": str(seen)})
        if role == "owner":
            expected = (200, 302) if writable else (403, 302)
        elif role == "anonymous":
            expected = (302, 302)
        elif role == "outsider":
            expected = (404, 404)
        elif role == "other platform":
            expected = None if oph_has_same_pk else (404, 404)
        else:  # the gestionnaire reads from step 4 but never writes; partners, editors
            expected = (403, 403)
        if expected is not None:
            assert (as_json.status_code, as_form.status_code) == expected, (step, role)
        if role == "anonymous":
            assert "/comptes/" in as_json["Location"]
        for response in (as_json, as_form):
            assert SENTINEL_DIGITS not in WHITESPACE.sub("", response.content.decode()), role
    with schema_context("dhup"):
        rows = Dossier.objects.get(pk=dossier.pk).values.get("Filiales", [])
    # the owner's two requests added two rows while it had the hand; nobody else's did
    assert len(rows) == count + (2 if writable else 0), step
    if not writable:  # the owner's form comes back to the sheet, saying why
        page = clients["owner"].post(url(dossier), {"op": "add", "seen_count": str(count)},
                                     follow=True).content.decode()  # fmt: skip
        assert "il ne peut plus être modifié par l&#x27;organisme" in page


def test_a_row_action_costs_a_fixed_number_of_queries(
    version, declarant, client, django_assert_max_num_queries
):
    dossier = open_dossier(declarant)
    fill(dossier, declarant, [{"FIL_NOM": str(i)} for i in range(2)])
    post(client, dossier, action="update", index=0, seen_count=2, entries={"FIL_CAPITAL": "1"})
    # whatever the row count: platform, session, user, dossier, lock, controls, history, the
    # sheet's layout (and savepoints)
    with django_assert_max_num_queries(17) as captured:
        post(client, dossier, action="insert", index=2, seen_count=2)
    with django_assert_max_num_queries(len(captured)):
        post(client, dossier, action="insert", index=3, seen_count=3)
    with django_assert_max_num_queries(len(captured) - 1):  # no layout to read: drawn in place
        post(client, dossier, action="update", index=0, seen_count=4, entries={"FIL_NOM": "A"})
