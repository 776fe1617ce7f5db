"""Excel parity on the project's own corpus, recalculated by LibreOffice headless.

``fixtures/parity_corpus`` writes small workbooks exercising Excel semantics and variants
of them with changed inputs; LibreOffice computes every formula. The engine compiles each base
workbook once, evaluates it with its saved inputs, then with each variant's inputs set through
the incremental recomputation, and must agree with LibreOffice on every formula cell — and, on
the base workbooks, with the Excel values checked by hand (``EXPECTED``).
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from openpyxl.utils.cell import get_column_letter

from fixtures.parity_corpus import (
    BASES,
    EXPECTED,
    cached_values,
    libreoffice_recalculate,
    parity_workbooks_build,
)
from forms_cms.engine import workbook_compile
from forms_cms.engine.values import XLError

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    paths = parity_workbooks_build(folder)
    recalculated = libreoffice_recalculate(paths, folder / "recalculated")
    return folder, {p.name: p for p in recalculated}


def same(computed, saved) -> bool:
    if computed.__class__ is XLError:
        return computed.code == saved
    if computed is None:
        computed = 0
    if isinstance(saved, bool) or isinstance(computed, bool):
        return computed == saved and type(computed) is type(saved)
    if isinstance(saved, int | float) and isinstance(computed, int | float):
        # relative 1e-9 as for the Excel corpus; LibreOffice caches numbers rounded to 15
        # significant digits, and sums of millions that cancel out keep only their last digits
        return math.isclose(computed, saved, rel_tol=1e-9, abs_tol=1e-9)
    return computed == saved


def differences(form, values, saved):
    out = []
    for cid in form.order:
        sheet, row, col = form.cells[cid]
        value = values[cid]
        # a table's calculated column holds one value per row, from its first data row on (a
        # blank template row is no row for the engine: nothing to compare then)
        for k, x in enumerate(value if value.__class__ is list else [value]):
            key = (sheet, f"{get_column_letter(col)}{row + k}")
            if key in saved and not same(x, saved[key]):
                out.append((key, x, saved[key]))
    return out


@pytest.mark.parametrize("base", sorted(BASES))
def test_saved_inputs_match_libreoffice_and_excel(corpus, base):
    folder, recalculated = corpus
    form = workbook_compile(folder / f"{base}.xlsx")
    values = form.evaluate()
    saved = cached_values(recalculated[f"{base}.xlsx"])
    assert len(saved) >= len(form.order) * 0.9
    assert differences(form, values, saved) == []
    by_name = form.values_by_name(values)
    for name, expected in EXPECTED[base].items():
        got = by_name[name]
        assert same(got, expected), f"{name}: engine {got!r}, Excel {expected!r}"


def test_changed_inputs_match_libreoffice(corpus):
    folder, recalculated = corpus
    variants = sorted(folder.glob("*__v*.json"))
    assert variants
    forms = {}
    for sidecar in variants:
        spec = json.loads(sidecar.read_text())
        base = spec["base"]
        if base not in forms:
            forms[base] = workbook_compile(folder / base)
        form = forms[base]
        values = form.evaluate()
        form.set_inputs(values, spec["inputs"])
        saved = cached_values(recalculated[sidecar.with_suffix(".xlsx").name])
        assert differences(form, values, saved) == [], sidecar.name


def test_er_sociaux_sized_form_matches_libreoffice_before_and_after_changes(tmp_path):
    """All 3,713 formulas of the realistic ER fixture, with its inputs and with 300 changed."""
    import random

    import openpyxl

    from fixtures.form_workbooks import form_workbook_build

    base = form_workbook_build("er_sociaux", tmp_path / "er.xlsx")
    form = workbook_compile(base)
    rng = random.Random(11)
    changes = {}
    for name in rng.sample(sorted(form.input_names), 300):
        sheet, row, col = form.cell_of(name)
        current = form.constants.get(form.names[name])
        if isinstance(current, int | float) and not isinstance(current, bool):
            changes[name] = rng.choice([None, 0.0, round(rng.uniform(-5e5, 5e6), 2)])
    wb = openpyxl.load_workbook(base)
    for name, value in changes.items():
        sheet, row, col = form.cell_of(name)
        wb[sheet].cell(row=row, column=col).value = value
    variant = tmp_path / "er_variant.xlsx"
    wb.save(variant)
    recalculated = {p.name: p for p in libreoffice_recalculate([base, variant], tmp_path / "lo")}
    values = form.evaluate()
    assert differences(form, values, cached_values(recalculated["er.xlsx"])) == []
    form.set_inputs(values, changes)
    assert differences(form, values, cached_values(recalculated["er_variant.xlsx"])) == []
