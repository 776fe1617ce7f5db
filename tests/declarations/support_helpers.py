"""A small form with every data type and an Excel Table, for the Excel support round trip."""

from __future__ import annotations

import io

import openpyxl
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from fixtures.parity_corpus.tables import table_workbook

FICHE = {
    # name: (row, label, number format, content)
    "NOM": (1, "Raison sociale", "@", None),
    "DATE_CLOTURE": (2, "Date de clôture", "dd/mm/yyyy", None),
    "FORME": (3, "Forme juridique", "@", None),
    "EFFECTIF": (4, "Effectif", "0", None),
    "TAUX": (5, "Taux de détention", "0.00%", None),
    "CAPITAL": (6, "Capital social", "#,##0.00", None),
    "CAPITAL_PONDERE": (7, "Capital pondéré", "#,##0.00", "=B6*B5+'Synthèse'!B1"),
    "EFF_MOYEN": (8, "Effectif par filiale", "#,##0.00",
                  "=IF(COUNTA(Filiales[Nom])=0,0,B4/COUNTA(Filiales[Nom]))"),
    "ANNEE": (9, "Année de clôture", "0", "=IF(B2=\"\",0,YEAR(B2))"),
}  # fmt: skip
CHOICES = ("SA", "SAS", "SCI")


def support_workbook() -> bytes:
    """The « Filiales » table form (cap 5) with a sheet « Fiche » of typed fields."""
    wb = openpyxl.load_workbook(io.BytesIO(table_workbook([], max_rows=5)))
    ws = wb.create_sheet("Fiche", 0)
    for name, (row, label, number_format, content) in FICHE.items():
        ws.cell(row, 1, label)
        cell = ws.cell(row, 2, content)
        cell.number_format = number_format
        wb.defined_names[name] = DefinedName(name, attr_text=f"Fiche!$B${row}")
    choice = DataValidation(type="list", formula1='"' + ",".join(CHOICES) + '"')
    choice.add("B3")
    ws.add_data_validation(choice)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
