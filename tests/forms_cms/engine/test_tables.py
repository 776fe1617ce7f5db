"""Excel Tables in the engine: structured references, row operations, caps, refusals, CLI."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from fixtures.parity_corpus.tables import ROW_SETS, table_workbook
from forms_cms.engine import (
    CompiledForm,
    CompileError,
    NotAnInput,
    TableFull,
    UnknownName,
    workbook_compile,
)
from forms_cms.engine.__main__ import main as cli


def book(
    *,
    headers=("Nom", "Capital", "Part"),
    names=("T_NOM", "T_CAPITAL", "T_PART"),
    rows=(("A", 10), ("B", 20)),
    part="=T[@Capital]*2",
    totals=False,
    cells=None,
    table="T",
    extra_names=None,
    second_table=None,
    loaded=False,
):
    """Sheet "S": table ``table`` at A2 (header row 2), data from row 3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for j, h in enumerate(headers):
        ws.cell(2, 1 + j, h)
    for i, r in enumerate(rows or [(None,) * (len(headers) - 1)]):
        for j, x in enumerate(r):
            ws.cell(3 + i, 1 + j, x)
        if part:
            ws.cell(3 + i, len(headers), part)
    last = 2 + max(1, len(rows))
    if totals:
        ws.cell(last + 1, 1, "Total")
        ws.cell(last + 1, 2, "=SUBTOTAL(109,T[Capital])")
        last += 1
    t = Table(displayName=table, ref=f"A2:{chr(64 + len(headers))}{last}")
    t._initialise_columns()
    for col, h in zip(t.tableColumns, headers, strict=True):
        col.name = h
    if totals:
        t.totalsRowCount = 1
    ws.add_table(t)
    for j, n in enumerate(names):
        if n:
            wb.defined_names[n] = DefinedName(n, attr_text=f"S!${chr(65 + j)}$3")
    for address, value in (cells or {}).items():
        ws[address] = value
        wb.defined_names["OUT_" + address] = DefinedName(
            "OUT_" + address, attr_text=f"S!${address[0]}${address[1:]}"
        )
    for n, ref in (extra_names or {}).items():
        wb.defined_names[n] = DefinedName(n, attr_text=ref)
    if second_table:
        ws2 = wb.create_sheet("S2")
        ws2["A1"], ws2["A2"] = "Nom", "x"
        t2 = Table(displayName="Other", ref="A1:A2")
        t2._initialise_columns()
        t2.tableColumns[0].name = "Nom"
        ws2.add_table(t2)
        t2.displayName = t2.name = second_table  # as a file written by another tool would
    if loaded:
        return wb
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer.getvalue()


def compiled(**kw) -> CompiledForm:
    return workbook_compile(io.BytesIO(book(**kw)))


def outputs(form, v):
    return {k[4:]: x for k, x in form.values_by_name(v).items() if k.startswith("OUT_")}


def test_structured_reference_forms():
    form = compiled(
        totals=True,
        cells={
            "H1": "=SUM(T[Capital])",
            "H2": "=SUM(T[[#Data],[Capital]:[Part]])",
            "H3": "=ROWS(T[#Data])",
            "H4": "=ROWS(T)",
            "H5": "=INDEX(T[#Headers],1,2)",
            "H6": "=T[[#Totals],[Capital]]",
            "H7": "=ROWS(T[#All])",
            "H8": "=COUNTA(T[[#Headers],[Nom]])",
            "H9": "=SUM(T[[Capital]:[Part]])",
            "H10": "=SUM(T[])",
        },
    )
    v = form.evaluate()
    assert outputs(form, v) == {
        "H1": 30.0, "H2": 90.0, "H3": 2, "H4": 2, "H5": "Capital", "H6": 30.0, "H7": 4,
        "H8": 1, "H9": 90.0, "H10": 90.0,
    }  # fmt: skip
    form.row_insert(v, "T", 2, {"T_NOM": "C", "T_CAPITAL": 5})
    assert outputs(form, v) == {
        "H1": 35.0, "H2": 105.0, "H3": 3, "H4": 3, "H5": "Capital", "H6": 35.0, "H7": 5,
        "H8": 1, "H9": 105.0, "H10": 105.0,
    }  # fmt: skip


def test_this_row_beside_the_table_and_plain_ranges():
    form = compiled(cells={"E3": "=T[@Capital]+1", "F1": "=SUM(B3:B4)", "F2": "=B4"})
    v = form.evaluate()
    assert outputs(form, v) == {"E3": 11.0, "F1": 30.0, "F2": 20.0}
    form.row_insert(v, "T", 0, {"T_CAPITAL": 100})
    # the range written over the two rows is the whole column; B4 stays the second row
    assert outputs(form, v) == {"E3": 101.0, "F1": 130.0, "F2": 10.0}


def test_row_operations_recompute_only_dependents():
    form = compiled(cells={"F1": "=SUM(T[Part])", "F2": "=1+1"})
    v = form.evaluate()
    part = form.tables["T"].column("T_PART").slot
    recomputed = form.row_update(v, "T", 1, {"T_CAPITAL": 50})
    assert form.names["OUT_F1"] in recomputed
    assert form.names["OUT_F2"] not in recomputed
    assert v[part] == [20.0, 100.0]
    form.row_move(v, "T", 1, 0)
    assert [r["T_NOM"] for r in form.table_rows(v, "T")] == ["B", "A"]
    assert v[part] == [100.0, 20.0]
    form.row_delete(v, "T", 0)
    form.row_delete(v, "T", 0)
    assert form.table_rows(v, "T") == []
    assert outputs(form, v)["F1"] == 0
    form.row_insert(v, "T", 0, {"T_CAPITAL": 3})
    assert form.table_rows(v, "T") == [{"T_NOM": None, "T_CAPITAL": 3.0, "T_PART": 6.0}]


def test_cap_unknown_and_computed_columns():
    form = compiled(extra_names={"MAX_LIGNES_T": "=3"})
    assert form.tables["T"].max_rows == 3
    v = form.evaluate()
    form.row_insert(v, "T", 2, {})
    with pytest.raises(TableFull):
        form.row_insert(v, "T", 0, {})
    with pytest.raises(TableFull):
        form.evaluate({"T": [{}] * 4})
    with pytest.raises(UnknownName):
        form.evaluate({"T": [{"T_NOPE": 1}]})
    with pytest.raises(NotAnInput):
        form.evaluate({"T": [{"T_PART": 1}]})
    assert compiled().tables["T"].max_rows == 500


def test_artifact_round_trip_keeps_tables():
    form = compiled(cells={"F1": "=SUM(T[Part])"})
    loaded = CompiledForm.loads(form.dumps())
    v = loaded.evaluate({"T": [{"T_CAPITAL": 7}]})
    assert loaded.values_by_name(v)["OUT_F1"] == 14.0
    assert loaded.tables["T"].columns[2].computed
    assert loaded.tables["T"].row_local == [loaded.tables["T"].column("T_PART").slot]


def test_workbook_problems_are_all_listed():
    with pytest.raises(CompileError) as caught:
        compiled(
            names=("T_NOM", None, "T_PART"),
            table="Table-é",
            cells={"F1": "=SUM(T[Capitale])"},
            extra_names={"DANS_TABLEAU": "S!$B$4"},
        )
    messages = "\n".join(p.message() for p in caught.value.problems)
    assert "la colonne « Capital » du tableau Table-é n'a pas de nom" in messages
    assert "cellule B3" in messages
    assert "« Table-é » ne peut pas servir d'élément XML" in messages
    assert "le tableau T n'existe pas" in messages
    assert "DANS_TABLEAU désigne une cellule du tableau" in messages


def test_missing_column_and_duplicate_tables():
    wb = book(cells={"F1": "=SUM(T[Capitale])"}, second_table="T", loaded=True)
    with pytest.raises(CompileError) as caught:
        workbook_compile(None, workbook=wb)
    messages = "\n".join(p.message() for p in caught.value.problems)
    assert "le tableau T n'a pas de colonne « Capitale »" in messages
    assert "deux tableaux portent le nom T" in messages


def test_partial_ranges_are_refused():
    with pytest.raises(CompileError) as caught:
        compiled(rows=(("A", 1), ("B", 2), ("C", 3)), cells={"F1": "=SUM(B3:B4)"})
    assert "ne couvre qu'une partie des lignes du tableau T" in str(caught.value)
    with pytest.raises(CompileError) as caught:
        compiled(cells={"F1": "=SUM(B3:D4)"})
    assert "déborde des colonnes du tableau T" in str(caught.value)


def test_controls_aggregate_tables():
    form = compiled()
    v = form.evaluate({"T": [{"T_CAPITAL": 4}, {"T_CAPITAL": 6}]})
    assert form.expression("=SUM(T[Capital])=10")(v) is True
    assert form.expression("=SUM(T[T_PART])")(v) == 20.0


def test_command_line_rows(tmp_path, capsys):
    path = tmp_path / "filiales.xlsx"
    path.write_bytes(table_workbook([]))
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(ROW_SETS["cinq_lignes"]), encoding="utf-8")
    assert cli(["evaluate", str(path), "--json", "--rows", f"Filiales={rows}"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["OUT_TOTAL_CAPITAL"] == 7600
    assert len(out["Filiales"]) == 5
    assert out["Filiales"][0] == {
        "FIL_NOM": "Alpha", "FIL_CAPITAL": 1000, "FIL_POURCENTAGE": 0.5, "FIL_PART": 500,
        "FIL_CATEGORIE": "SA", "FIL_RATIO": 500 / 7600,
    }  # fmt: skip
    assert cli(["evaluate", str(path), "--json", "--rows", f"Nope={rows}"]) == 2
    assert "Tableau inconnu dans ce classeur : Nope" in capsys.readouterr().err
    rows.write_text(json.dumps([{"FIL_NOPE": 1}]), encoding="utf-8")
    assert cli(["evaluate", str(path), "--json", "--rows", f"Filiales={rows}"]) == 2
    assert "FIL_NOPE" in capsys.readouterr().err


def test_a_table_named_like_a_defined_name_is_refused():
    """Excel keeps tables and names in one namespace; a crafted workbook that does not would
    give the XML two elements of one name."""
    with pytest.raises(CompileError) as caught:
        compiled(extra_names={"T": "S!$H$1"})
    messages = "\n".join(p.message() for p in caught.value.problems)
    assert "le tableau T porte le nom d'une cellule nommée" in messages
