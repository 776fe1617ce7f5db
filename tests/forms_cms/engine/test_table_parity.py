"""Multivalued tables against LibreOffice: the template given its rows by the engine must
compute what LibreOffice computes on the same workbook with those rows physically present —
aggregates, calculated columns, lookups, conditional sums, A1 ranges and cross-sheet totals.
The rows are also added one by one (row operations), and inserted and deleted in the middle."""

from __future__ import annotations

import io
import shutil

import pytest

from fixtures.parity_corpus import libreoffice_recalculate, named_values
from fixtures.parity_corpus.tables import FIELDS, INPUTS, ROW_SETS, table_workbook
from forms_cms.engine import workbook_compile
from tests.forms_cms.engine.test_libreoffice_parity import same

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent")


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    paths = []
    for name, rows in ROW_SETS.items():
        path = folder / f"filiales_{name}.xlsx"
        path.write_bytes(table_workbook(rows))
        paths.append(path)
    outputs = libreoffice_recalculate(paths, folder / "recalculated")
    return {p.stem.removeprefix("filiales_"): named_values(p) for p in outputs}


@pytest.fixture(scope="module")
def template():
    return workbook_compile(io.BytesIO(table_workbook([])))


def _outputs(values: dict) -> dict:
    return {k: x for k, x in values.items() if k.startswith("OUT_")}


def _compare(computed: dict, expected: dict) -> list:
    return [
        (name, computed[name], expected[name])
        for name in _outputs(expected)
        if not same(computed[name], expected[name])
    ]


@pytest.mark.parametrize("row_set", list(ROW_SETS))
def test_rows_given_match_rows_present(template, recalculated, row_set):
    rows = ROW_SETS[row_set]
    v = template.evaluate({"Filiales": rows})
    computed = template.values_by_name(v)
    assert _compare(computed, recalculated[row_set]) == []
    assert len(computed["Filiales"]) == len(rows)


@pytest.mark.parametrize("row_set", ["cinq_lignes", "douze_lignes"])
def test_calculated_columns_match_row_by_row(template, recalculated, row_set):
    rows = ROW_SETS[row_set]
    computed = template.values_by_name(template.evaluate({"Filiales": rows}))["Filiales"]
    present = workbook_compile(io.BytesIO(table_workbook(rows)))
    physical = present.values_by_name(present.evaluate())["Filiales"]
    assert [r["FIL_PART"] for r in computed] == [r["FIL_PART"] for r in physical]
    assert [r["FIL_RATIO"] for r in computed] == [r["FIL_RATIO"] for r in physical]
    assert set(computed[0]) == set(FIELDS)


def test_rows_added_one_by_one_recompute_the_same(template, recalculated):
    v = template.evaluate()
    for i, row in enumerate(ROW_SETS["cinq_lignes"]):
        template.row_insert(v, "Filiales", i, row)
    assert _compare(template.values_by_name(v), recalculated["cinq_lignes"]) == []


def test_insert_and_delete_in_the_middle(template, recalculated):
    rows = ROW_SETS["cinq_lignes"]
    v = template.evaluate({"Filiales": [rows[0], rows[1], rows[3], rows[4]]})
    template.row_insert(v, "Filiales", 2, rows[2])
    assert _compare(template.values_by_name(v), recalculated["cinq_lignes"]) == []
    # an extra row inserted then deleted leaves exactly the five rows' figures
    template.row_insert(v, "Filiales", 3, ROW_SETS["une_ligne"][0])
    assert len(template.values_by_name(v)["Filiales"]) == 6
    template.row_delete(v, "Filiales", 3)
    assert _compare(template.values_by_name(v), recalculated["cinq_lignes"]) == []
    # a changed row, then changed back
    template.row_update(v, "Filiales", 1, {"FIL_CAPITAL": 99999})
    assert (
        template.values_by_name(v)["OUT_TOTAL_CAPITAL"]
        != recalculated["cinq_lignes"]["OUT_TOTAL_CAPITAL"]
    )
    template.row_update(v, "Filiales", 1, {"FIL_CAPITAL": rows[1]["FIL_CAPITAL"]})
    assert _compare(template.values_by_name(v), recalculated["cinq_lignes"]) == []


def test_physical_rows_are_the_workbook_rows(recalculated):
    """A workbook whose table holds rows starts with them (pre-filled rows)."""
    rows = ROW_SETS["cinq_lignes"]
    form = workbook_compile(io.BytesIO(table_workbook(rows)))
    values = form.values_by_name(form.evaluate())
    assert [{k: r[k] for k in INPUTS} for r in values["Filiales"]] == [
        {k: (float(x) if isinstance(x, int) else x) for k, x in r.items()} for r in rows
    ]
    assert _compare(values, recalculated["cinq_lignes"]) == []
