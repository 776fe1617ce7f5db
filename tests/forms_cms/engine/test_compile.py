"""Compilation: errors named for the gestionnaire, the stored artifact, incremental recompute."""

from __future__ import annotations

import io
import random
import subprocess
import sys

import pytest

from forms_cms.engine import CompiledForm, CompileError, NotAnInput, UnknownName

from .helpers import compile_cells, workbook_bytes


def test_unsupported_function_names_sheet_cell_name_and_function():
    with pytest.raises(CompileError) as caught:
        compile_cells(
            {"Bilan": {"A1": 1, "B4": "=A1+XLOOKUP(1,A1:A2,A1:A2)"}},
            names={"TOTAL_BILAN": "Bilan!$B$4"},
        )
    problem = caught.value.problems[0]
    assert (problem.sheet, problem.cell, problem.name, problem.function) == (
        "Bilan",
        "B4",
        "TOTAL_BILAN",
        "XLOOKUP",
    )
    assert "feuille « Bilan », cellule B4 (nom TOTAL_BILAN)" in str(caught.value)
    assert "XLOOKUP n'est pas prise en charge" in str(caught.value)


def test_circular_reference_is_rejected_with_the_loop():
    with pytest.raises(CompileError) as caught:
        compile_cells({"S": {"A1": "=B1+1", "B1": "=C1", "C1": "=A1*2", "D1": "=A1"}})
    message = str(caught.value)
    assert "référence circulaire" in message
    assert "S!A1 → S!B1 → S!C1 → S!A1" in message
    assert {p.cell for p in caught.value.problems} == {"A1", "B1", "C1"}


def test_self_reference_is_circular():
    with pytest.raises(CompileError, match="référence circulaire"):
        compile_cells({"S": {"A1": "=A1+1"}})


def test_every_bad_formula_is_reported_at_once():
    with pytest.raises(CompileError) as caught:
        compile_cells({"S": {"A1": "=FOO(1)", "A2": "=BAR(2)", "A3": "=1+"}})
    assert len(caught.value.problems) == 3


def test_reference_to_missing_sheet_is_ref_error():
    form = compile_cells({"S": {"A1": "=Absente!A1+1"}})
    assert form.evaluate()[form.ids_by_address[("S", 1, 1)]].code == "#REF!"


def test_unknown_name_evaluates_to_name_error():
    form = compile_cells({"S": {"A1": "=NOM_INCONNU+1"}})
    assert form.evaluate()[form.ids_by_address[("S", 1, 1)]].code == "#NAME?"


BALANCE = {
    "Actif": {"B2": 1000, "B3": 250.5, "B4": "=SUM(B2:B3)", "B6": "=ROUND(B4*Param!A1,2)"},
    "Passif": {"B2": 800, "B3": "=Actif!B4-B2", "B4": "=B2+B3", "B5": "=IF(B4=Actif!B4,0,1)"},
    "Param": {"A1": 0.0125},
}
NAMES = {
    "ACT_IMMO": "Actif!$B$2",
    "ACT_STOCKS": "Actif!$B$3",
    "TOTAL_ACTIF": "Actif!$B$4",
    "PROVISION": "Actif!$B$6",
    "PAS_CAPITAL": "Passif!$B$2",
    "PAS_RESULTAT": "Passif!$B$3",
    "TOTAL_PASSIF": "Passif!$B$4",
    "ECART": "Passif!$B$5",
}


def test_names_inputs_and_computed_fields():
    form = compile_cells(BALANCE, NAMES)
    assert set(form.input_names) == {"ACT_IMMO", "ACT_STOCKS", "PAS_CAPITAL"}
    assert set(form.computed_names) == {
        "TOTAL_ACTIF",
        "PROVISION",
        "PAS_RESULTAT",
        "TOTAL_PASSIF",
        "ECART",
    }
    values = form.values_by_name(form.evaluate())
    assert values["TOTAL_ACTIF"] == 1250.5
    assert values["PROVISION"] == 15.63
    assert values["TOTAL_PASSIF"] == 1250.5
    assert values["ECART"] == 0
    # a new dossier: named inputs start empty, unnamed parameters keep their value
    empty = form.values_by_name(form.evaluate(workbook_inputs=False))
    assert empty["TOTAL_ACTIF"] == 0
    assert empty["ACT_IMMO"] is None


def test_setting_computed_or_unknown_fields_is_refused():
    form = compile_cells(BALANCE, NAMES)
    v = form.evaluate()
    with pytest.raises(NotAnInput):
        form.set_inputs(v, {"TOTAL_ACTIF": 1})
    with pytest.raises(UnknownName):
        form.set_inputs(v, {"INCONNU": 1})


def test_recompute_touches_only_dependents():
    form = compile_cells(BALANCE, NAMES)
    v = form.evaluate()
    recomputed = form.set_inputs(v, {"PAS_CAPITAL": 900})
    expected = {("Passif", 3, 2), ("Passif", 4, 2), ("Passif", 5, 2)}
    assert {form.cells[c] for c in recomputed} == expected
    assert form.values_by_name(v)["PAS_RESULTAT"] == 350.5
    recomputed = form.set_inputs(v, {"ACT_IMMO": 2000})
    assert len(recomputed) == 5  # every formula depends on the fixed assets


def test_artifact_round_trip_and_fresh_process(tmp_path):
    form = compile_cells(BALANCE, NAMES)
    data = form.dumps()
    again = CompiledForm.loads(data)
    assert again.values_by_name(again.evaluate()) == form.values_by_name(form.evaluate())
    artifact = tmp_path / "form.bin"
    artifact.write_bytes(data)
    script = (
        "import sys, json; from forms_cms.engine import CompiledForm;"
        "f = CompiledForm.loads(open(sys.argv[1], 'rb').read());"
        "v = f.evaluate({'ACT_IMMO': 10});"
        "print(json.dumps(f.values_by_name(v)['TOTAL_ACTIF']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(artifact)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "260.5"


def test_artifact_from_another_python_is_recompiled_from_source():
    import marshal

    from forms_cms.engine.model import MAGIC

    form = compile_cells(BALANCE, NAMES)
    data = form.dumps()
    at = len(MAGIC)
    header_size = int.from_bytes(data[at : at + 8], "big")
    code_size = int.from_bytes(data[at + 8 : at + 16], "big")
    header = marshal.loads(data[at + 16 : at + 16 + header_size])  # noqa: S302 - our own
    header["python"] = "cpython-0"  # as if another interpreter had written it
    new_header = marshal.dumps(header)
    rebuilt = (
        MAGIC
        + len(new_header).to_bytes(8, "big")
        + code_size.to_bytes(8, "big")
        + new_header
        + data[at + 16 + header_size :]
    )
    other = CompiledForm.loads(rebuilt)
    assert other.source == form.source
    assert other.values_by_name(other.evaluate())["ECART"] == 0


def test_incremental_equals_full_recalculation_on_a_random_workbook():
    rng = random.Random(7)
    cells = {}
    for row in range(1, 61):
        cells[f"A{row}"] = rng.choice([rng.randint(-500, 500), rng.random() * 1000, None])
    for row in range(1, 61):
        a, b = rng.randint(1, 60), rng.randint(1, 60)
        lower = rng.randint(1, row)
        cells[f"B{row}"] = rng.choice(
            [
                f"=A{a}+A{b}*2",
                f"=SUM(A{min(a, b)}:A{max(a, b)})",
                f"=IF(A{a}>0,ROUND(A{b}/3,2),B{lower - 1 if lower > 1 else 1}*0)",
                f"=IFERROR(A{a}/A{b},0)",
            ]
        )
    cells["B1"] = "=A1"
    form = compile_cells({"S": cells})
    v = form.evaluate()
    inputs = [cid for cid, address in enumerate(form.cells) if address and address[2] == 1]
    for _ in range(40):
        cid = rng.choice(inputs)
        v[cid] = rng.choice([rng.randint(-100, 100), None, "7", 0])
        form.recompute(v, [cid])
        full = list(v)
        form.recalculate(full)
        assert v == full


def test_workbook_compile_accepts_file_objects():
    data = workbook_bytes(BALANCE, NAMES)
    form = compile_cells(BALANCE, NAMES)
    assert CompiledForm.loads(form.dumps()).names.keys() == form.names.keys()
    assert io.BytesIO(data).read(2) == b"PK"


def test_expressions_over_field_names():
    from forms_cms.engine import ExpressionError

    form = compile_cells(BALANCE, NAMES)
    v = form.evaluate()
    gap = form.expression("=ABS(TOTAL_ACTIF-TOTAL_PASSIF)<=0.01")
    assert gap(v) is True
    form.set_inputs(v, {"ACT_IMMO": 5})
    assert form.expression("=total_actif")(v) == 255.5  # names are case-insensitive
    assert form.expression('=IF(PAS_CAPITAL>0,"ok","vide")')(v) == "ok"
    assert form.expression("=SUM(ACT_IMMO,ACT_STOCKS)")(v) == 255.5
    with pytest.raises(ExpressionError, match="le champ INCONNU n'existe pas"):
        form.expression("=INCONNU+1")
    with pytest.raises(ExpressionError, match="par son nom|par leur nom"):
        form.expression("=Actif!B2+1")
    with pytest.raises(ExpressionError, match="XLOOKUP"):
        form.expression("=XLOOKUP(1,ACT_IMMO,ACT_IMMO)")
    with pytest.raises(ExpressionError, match="illisible"):
        form.expression("=1+")
