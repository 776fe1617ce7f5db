"""The catalogue of a form workbook: names → fields, every naming problem reported at once."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from harmonia.workbook_safety import workbook_load
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from forms_cms.workbook.catalogue import (
    Catalogue,
    CatalogueError,
    catalogue_diff,
    catalogue_read,
)
from forms_cms.workbook.datatypes import format_type

# --- helpers ---------------------------------------------------------------------------------


def new_book(*titles: str):
    wb = Workbook()
    wb.active.title = titles[0] if titles else "Bilan"
    for title in titles[1:]:
        wb.create_sheet(title)
    return wb


def name(wb, field: str, ref: str, *, sheet: str | None = None, hidden: bool | None = None):
    defn = DefinedName(field, attr_text=ref, hidden=hidden)
    if sheet is None:
        wb.defined_names[field] = defn
    else:
        wb[sheet].defined_names[field] = defn


def saved(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read(wb, data: bytes | None = None) -> Catalogue:
    data = data or saved(wb)
    return catalogue_read(workbook_load(data), source=data)


def problems(wb) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        read(wb)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def only(wb) -> dict:
    return {f.name: f for f in read(wb).fields}


def typed(number_format=None, value=None, *, validation=None, formula=None) -> str:
    wb = new_book()
    ws = wb.active
    ws["B2"] = formula if formula is not None else value
    if number_format:
        ws["B2"].number_format = number_format
    if validation is not None:
        validation.add("B2")
        ws.add_data_validation(validation)
    name(wb, "CHAMP", "Bilan!$B$2")
    return only(wb)["CHAMP"].data_type


# --- names → fields --------------------------------------------------------------------------


def test_fields_in_sheet_order_with_positions_kinds_and_scopes():
    wb = new_book("Bilan", "Résultat")
    bilan, resultat = wb["Bilan"], wb["Résultat"]
    bilan["C5"] = 1000
    bilan["C6"] = "=C5*2"
    resultat["D3"] = 5
    name(wb, "TOTAL", "Bilan!$C$6")
    name(wb, "CAPITAL", "Bilan!$C$5")
    name(wb, "PRODUITS", "'Résultat'!$D$3", sheet="Résultat")
    fields = read(wb).fields
    assert [f.name for f in fields] == ["CAPITAL", "TOTAL", "PRODUITS"]
    capital, total, produits = fields
    assert (capital.sheet, capital.cell, capital.row, capital.column) == ("Bilan", "C5", 5, 3)
    assert (capital.kind, capital.formula, capital.scope) == ("input", "", "workbook")
    assert (total.kind, total.formula) == ("computed", "=C5*2")
    assert (produits.sheet, produits.scope, produits.cell) == ("Résultat", "Résultat", "D3")


def test_excel_internal_and_hidden_names_are_ignored():
    wb = new_book()
    wb.active["B2"] = 1
    name(wb, "CAPITAL", "Bilan!$B$2")
    name(wb, "_xlnm._FilterDatabase", "Bilan!$A$1:$D$9", sheet="Bilan", hidden=True)
    name(wb, "_Interne", "=0.2")
    name(wb, "solver_opt", "Bilan!$B$2", sheet="Bilan", hidden=True)
    wb.active.print_area = "A1:D20"
    catalogue = read(wb)
    assert [f.name for f in catalogue.fields] == ["CAPITAL"]
    assert "_Interne" in catalogue.range_names
    assert "solver_opt" in catalogue.range_names


def test_every_problem_is_reported_at_once():
    wb = new_book()
    name(wb, "CASSE", "#REF!")
    name(wb, "TAUX", "0.2")
    name(wb, "PLAGE", "Bilan!$B$2:$B$9")
    assert len(problems(wb)) == 3


def test_ref_error_name():
    wb = new_book()
    name(wb, "CASSE", "Bilan!#REF!")
    name(wb, "CASSE2", "#REF!", sheet="Bilan")
    first, second = problems(wb)
    assert first == (
        "Le nom « CASSE » désigne une référence invalide (#REF!) : corrigez ou supprimez ce "
        "nom dans le gestionnaire de noms d'Excel (onglet Formules)."
    )
    assert "Le nom « CASSE2 » (propre à la feuille « Bilan ») désigne une référence invalide" in (
        second
    )


def test_duplicate_names_across_scopes_case_insensitive():
    wb = new_book("Bilan", "Annexe")
    name(wb, "Capital", "Bilan!$B$2")
    name(wb, "CAPITAL", "Annexe!$B$2", sheet="Annexe")
    (message,) = problems(wb)
    assert message.startswith("Le nom « Capital » est défini plusieurs fois")
    assert "« Capital » au niveau du classeur (feuille « Bilan », cellule B2)" in message
    assert "« CAPITAL » (propre à la feuille « Annexe ») (feuille « Annexe », cellule B2)" in (
        message
    )
    assert "renommez ou supprimez l'un d'eux" in message


def test_same_name_scoped_to_two_sheets():
    wb = new_book("Bilan", "Annexe")
    name(wb, "NB", "Bilan!$B$2", sheet="Bilan")
    name(wb, "NB", "Annexe!$B$3", sheet="Annexe")
    (message,) = problems(wb)
    assert "« NB » est défini plusieurs fois" in message


def test_multi_cell_name_is_refused_unless_used():
    wb = new_book()
    name(wb, "CHARGES", "Bilan!$B$2:$B$9")
    name(wb, "COLONNE", "Bilan!$C:$C")
    name(wb, "DEUX", "Bilan!$B$2,Bilan!$D$2")
    messages = problems(wb)
    assert messages[0] == (
        "Le nom « CHARGES » désigne plusieurs cellules (Bilan!$B$2:$B$9) : un champ est une "
        "seule cellule ; nommez chaque cellule séparément et supprimez ce nom."
    )
    assert "« COLONNE » désigne plusieurs cellules" in messages[1]
    assert "« DEUX » désigne plusieurs cellules" in messages[2]


def test_multi_cell_names_used_by_formulas_or_lists_are_range_names():
    wb = new_book("Bilan", "Listes")
    ws = wb["Bilan"]
    ws["B10"] = "=SUM(CHARGES)"
    ws["B11"] = None
    wb["Listes"]["A1"], wb["Listes"]["A2"] = "Oui", "Non"
    dv = DataValidation(type="list", formula1="OUI_NON", allow_blank=True)
    dv.add("B11")
    ws.add_data_validation(dv)
    name(wb, "CHARGES", "Bilan!$B$2:$B$9")
    name(wb, "OUI_NON", "Listes!$A$1:$A$2")
    name(wb, "TOTAL", "Bilan!$B$10")
    name(wb, "REPONSE", "Bilan!$B$11")
    catalogue = read(wb)
    assert sorted(catalogue.range_names) == ["CHARGES", "OUI_NON"]
    fields = {f.name: f for f in catalogue.fields}
    assert set(fields) == {"TOTAL", "REPONSE"}
    assert (fields["REPONSE"].data_type, fields["REPONSE"].choices) == ("choice", ["Oui", "Non"])


@pytest.mark.parametrize("definition", ["0.2", '"texte"', "Bilan!$B$2*2", "SUM(Bilan!$B$2:$B$3)"])
def test_constant_or_formula_name(definition):
    wb = new_book()
    name(wb, "TAUX", definition)
    (message,) = problems(wb)
    assert message.startswith(
        f"Le nom « TAUX » ne désigne pas une cellule mais une constante ou une formule "
        f"({definition}) : un champ est une cellule ; placez la valeur dans une cellule"
    )


def test_name_on_a_missing_sheet():
    wb = new_book()
    name(wb, "CAPITAL", "Annexe!$B$2")
    (message,) = problems(wb)
    assert message.startswith(
        "Le nom « CAPITAL » désigne B2 dans la feuille « Annexe », qui n'existe pas dans le "
        "classeur"
    )


def test_name_on_another_workbook():
    wb = new_book()
    name(wb, "EXTERNE", "[1]Bilan!$B$2")
    (message,) = problems(wb)
    assert "« EXTERNE » désigne une cellule d'un autre classeur" in message


@pytest.mark.parametrize("bad", ["Capital_été", "Montant?", "Charges\\Fixes"])
def test_name_that_is_not_an_xml_element_name(bad):
    wb = new_book()
    name(wb, bad, "Bilan!$B$2")
    (message,) = problems(wb)
    assert message.startswith(f"Le nom « {bad} » (feuille « Bilan », cellule B2) n'est pas")
    assert "il devient un élément du format XML" in message


def test_two_names_on_one_cell():
    wb = new_book()
    name(wb, "CAPITAL", "Bilan!$B$2")
    name(wb, "CAPITAL_SOCIAL", "Bilan!$B$2")
    (message,) = problems(wb)
    assert message.startswith(
        "La cellule B2 de la feuille « Bilan » porte plusieurs noms (« CAPITAL », "
        "« CAPITAL_SOCIAL ») : un champ n'a qu'un nom"
    )


def test_name_hidden_under_a_merge():
    wb = new_book()
    wb.active.merge_cells("B2:D2")
    name(wb, "CAPITAL", "Bilan!$C$2")
    (message,) = problems(wb)
    assert "désigne la cellule C2 de la feuille « Bilan », masquée par la fusion B2:D2" in message
    assert "nommez la première cellule de la fusion (B2)" in message


def test_sheet_names_with_quotes_and_spaces():
    wb = new_book("Compte de résultat", "L'annexe")
    name(wb, "PRODUITS", "'Compte de résultat'!$D$4")
    name(wb, "NOTE", "'L''annexe'!B2")
    fields = only(wb)
    assert fields["PRODUITS"].sheet == "Compte de résultat"
    assert (fields["NOTE"].sheet, fields["NOTE"].cell) == ("L'annexe", "B2")


# --- data types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [
        ("0.00%", "percentage"),
        ("0%", "percentage"),
        ("dd/mm/yyyy", "date"),
        ("d-mmm-yy", "date"),
        ("yyyy-mm-dd h:mm", "date"),
        ("@", "text"),
        ("#,##0.00", "amount"),
        ("0.00", "amount"),
        ("#,##0 €", "amount"),
        ("[$€-40C] #,##0", "amount"),
        ('_-* #,##0.00 €_-;-* #,##0.00 €_-;_-* "-"?? €_-;_-@_-', "amount"),
        ("0", "integer"),
        ("#,##0", "integer"),
        ("# ##0;[Red]-# ##0", "integer"),
        ('0" %"', "integer"),
        ('0" jours"', "integer"),
        ("General", None),
        (None, None),
    ],
)
def test_number_format_types(number_format, expected):
    assert format_type(number_format) == expected


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [("0.0%", "percentage"), ("dd/mm/yyyy", "date"), ("@", "text"), ("#,##0.00", "amount")],
)
def test_number_format_decides_a_fields_type(number_format, expected):
    assert typed(number_format) == expected


def test_list_validation_inline_choices():
    dv = DataValidation(type="list", formula1='"Oui, Non,Sans objet"', allow_blank=True)
    wb = new_book()
    dv.add("B2")
    wb.active.add_data_validation(dv)
    name(wb, "REPONSE", "Bilan!$B$2")
    field = only(wb)["REPONSE"]
    assert (field.data_type, field.choices) == ("choice", ["Oui", "Non", "Sans objet"])


def test_list_validation_choices_from_another_sheet():
    wb = new_book("Bilan", "Listes")
    for i, value in enumerate(["OPH", "ESH", None, "SEM", 12.0], start=1):
        wb["Listes"].cell(row=i, column=1, value=value)
    dv = DataValidation(type="list", formula1="Listes!$A$1:$A$5")
    dv.add("B2")
    wb["Bilan"].add_data_validation(dv)
    name(wb, "FAMILLE", "Bilan!$B$2")
    assert only(wb)["FAMILLE"].choices == ["OPH", "ESH", "SEM", "12"]


def test_list_validation_choices_from_the_same_sheet():
    wb = new_book()
    ws = wb.active
    ws["H1"], ws["H2"] = "Oui", "Non"
    dv = DataValidation(type="list", formula1="$H$1:$H$2")
    dv.add("B2")
    ws.add_data_validation(dv)
    name(wb, "REPONSE", "Bilan!$B$2")
    assert only(wb)["REPONSE"].choices == ["Oui", "Non"]


def test_unreadable_list_is_free_text_with_a_warning():
    wb = new_book()
    dv = DataValidation(type="list", formula1='INDIRECT("Listes!A1:A3")')
    dv.add("B2")
    wb.active.add_data_validation(dv)
    name(wb, "REPONSE", "Bilan!$B$2")
    catalogue = read(wb)
    assert catalogue.fields[0].data_type == "text"
    assert (
        "La liste de choix du champ « REPONSE » (feuille « Bilan », cellule B2"
        in (catalogue.warnings[0])
    )


def test_list_validation_in_the_x14_extension():
    """Excel stores lists on another sheet in an extension openpyxl drops: read from bytes."""
    wb = new_book("Bilan", "Listes")
    wb["Listes"]["A1"], wb["Listes"]["A2"] = "Propriétaire", "Locataire"
    name(wb, "STATUT", "Bilan!$B$2")
    data = saved(wb)
    extension = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations count="1" '
        'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="list" allowBlank="0" showErrorMessage="1">'
        "<x14:formula1><xm:f>Listes!$A$1:$A$2</xm:f></x14:formula1>"
        "<xm:sqref>B2</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"
    )
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</worksheet>", extension.encode() + b"</worksheet>")
            archive.writestr(info.filename, content)
    field = read(None, out.getvalue()).fields[0]
    assert (field.data_type, field.choices) == ("choice", ["Propriétaire", "Locataire"])
    assert field.required
    # without the bytes, openpyxl alone does not see the validation
    assert catalogue_read(workbook_load(out.getvalue())).fields[0].data_type == "amount"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("whole", "integer"), ("decimal", "amount"), ("date", "date"), ("textLength", "text")],
)
def test_validation_types_with_general_format(kind, expected):
    assert typed(validation=DataValidation(type=kind, operator="greaterThan", formula1="0")) == (
        expected
    )


def test_number_format_comes_before_a_validation():
    dv = DataValidation(type="whole", operator="greaterThan", formula1="0")
    assert typed("0.00", validation=dv) == "amount"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Texte", "text"),
        (12, "amount"),
        (12.5, "amount"),
        (dt.datetime(2024, 12, 31), "date"),
        (None, "amount"),
    ],
)
def test_general_input_cell_typed_by_its_value(value, expected):
    assert typed(value=value) == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=B1*2", "amount"),
        ('="Exercice "&B1', "text"),
        ("=B1&B3", "text"),
        ('=CONCATENATE(B1,"-",B3)', "text"),
        ('=IF(B1>0,"Oui","Non")', "amount"),
    ],
)
def test_general_computed_cell_typed_by_its_formula(formula, expected):
    assert typed(formula=formula) == expected


# --- required, tronc commun, labels -----------------------------------------------------------


def test_required_when_ignore_blank_is_unchecked():
    wb = new_book()
    ws = wb.active
    strict = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=False)
    lenient = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True)
    strict.add("B2")
    strict.add("B4")
    lenient.add("B3")
    ws.add_data_validation(strict)
    ws.add_data_validation(lenient)
    ws["B4"] = "=B2+B3"
    name(wb, "A", "Bilan!$B$2")
    name(wb, "B", "Bilan!$B$3")
    name(wb, "C", "Bilan!$B$4")
    name(wb, "D", "Bilan!$B$5")
    fields = only(wb)
    assert fields["A"].required
    assert not fields["B"].required
    assert not fields["C"].required  # computed fields are never required
    assert not fields["D"].required


def test_tronc_commun_by_name_prefix():
    wb = new_book()
    name(wb, "TC_CAPITAL", "Bilan!$B$2")
    name(wb, "tc_logements", "Bilan!$B$3")
    name(wb, "TCX", "Bilan!$B$4")
    name(wb, "CAPITAL_TC_", "Bilan!$B$5")
    fields = only(wb)
    assert [f.name for f in fields.values() if f.common] == ["TC_CAPITAL", "tc_logements"]


def test_labels_from_row_and_column_headers():
    wb = new_book()
    ws = wb.active
    ws["A1"] = "Bilan simplifié"
    ws["C3"], ws["D3"] = "  Exercice   N ", "Exercice N-1"
    ws["B4"], ws["B5"] = "Capital social", "Réserves"
    ws["A5"] = "Ignoré (plus loin)"
    ws["C4"], ws["D4"] = 1000, 900
    ws["C6"] = 42  # a number above is skipped, not a label
    ws["C7"] = None
    name(wb, "CAPITAL_N", "Bilan!$C$4")
    name(wb, "CAPITAL_N1", "Bilan!$D$4")
    name(wb, "RESERVES_N", "Bilan!$C$5")
    name(wb, "RESERVES_N1", "Bilan!$D$5")
    name(wb, "SANS_LIGNE", "Bilan!$C$7")
    name(wb, "ORPHELIN", "Bilan!$F$9")
    fields = only(wb)
    assert fields["CAPITAL_N"].label == "Capital social — Exercice N"
    assert fields["CAPITAL_N1"].label == "Capital social — Exercice N-1"
    # the named cell to the left is skipped; the nearest text is the row label
    assert fields["RESERVES_N1"].label == "Réserves — Exercice N-1"
    assert fields["SANS_LIGNE"].label == "Exercice N"
    assert fields["ORPHELIN"].label == "ORPHELIN"


def test_labels_from_merged_headers():
    wb = new_book()
    ws = wb.active
    ws["C2"] = "Montants en euros"
    ws.merge_cells("C2:E2")
    ws["A4"] = "Logements"
    ws.merge_cells("A4:B6")
    ws["C3"] = "Nombre"
    name(wb, "LOG_NB", "Bilan!$C$5")
    name(wb, "LOG_MONTANT", "Bilan!$D$5")
    fields = only(wb)
    assert fields["LOG_NB"].label == "Logements — Nombre"
    assert fields["LOG_MONTANT"].label == "Logements — Montants en euros"


# --- serialisation and diff -------------------------------------------------------------------


def test_catalogue_round_trips_through_json_dicts():
    wb = new_book()
    dv = DataValidation(type="list", formula1='"Oui,Non"')
    dv.add("B3")
    wb.active.add_data_validation(dv)
    name(wb, "TC_A", "Bilan!$B$2")
    name(wb, "B", "Bilan!$B$3")
    catalogue = read(wb)
    assert Catalogue.from_dict(catalogue.as_dict()) == catalogue


def catalogue_of(**cells) -> Catalogue:
    """``NAME=("B2", value_or_formula, number_format)``."""
    wb = new_book()
    for field, (cell, content, number_format) in cells.items():
        wb.active[cell] = content
        wb.active[cell].number_format = number_format
        match = re.match(r"([A-Z]+)(\d+)", cell)
        name(wb, field, f"Bilan!${match.group(1)}${match.group(2)}")
    return read(wb)


def test_diff_between_two_versions():
    old = catalogue_of(
        CAPITAL=("B2", None, "#,##0.00"),
        NB=("B3", None, "0"),
        TOTAL=("B4", "=B2*2", "#,##0.00"),
        ANCIEN=("B5", None, "General"),
        TAUX=("B6", None, "0.0%"),
    )
    new = catalogue_of(
        capital=("B2", None, "#,##0.00"),
        NB=("B3", None, "#,##0.00"),
        TOTAL=("B4", "=B2*3", "#,##0.00"),
        NOUVEAU=("B5", None, "General"),
        TAUX=("C6", None, "0.0%"),
    )
    changes = catalogue_diff(old, new)
    assert not changes.is_empty
    assert changes.added == ["NOUVEAU"]
    assert changes.removed == ["ANCIEN"]
    assert changes.retyped == [("NB", "input integer", "input amount")]
    assert changes.formula_changed == [("TOTAL", "=B2*2", "=B2*3")]
    assert changes.moved == [("TAUX", "Bilan!B6", "Bilan!C6")]
    as_dict = changes.as_dict()
    assert as_dict["retyped"] == [{"name": "NB", "old": "input integer", "new": "input amount"}]
    assert catalogue_diff(new, new).is_empty


def test_diff_reports_an_input_becoming_computed_and_changed_choices():
    old = catalogue_of(A=("B2", None, "0.00"), B=("B3", None, "0.00"))
    new = catalogue_of(A=("B2", "=B3", "0.00"), B=("B3", None, "0.00"))
    new.fields[1].data_type, new.fields[1].choices = "choice", ["Oui", "Non"]
    changes = catalogue_diff(old, new)
    assert changes.retyped == [
        ("A", "input amount", "computed amount"),
        ("B", "input amount", "input choice (Oui | Non)"),
    ]
    assert changes.formula_changed == []
