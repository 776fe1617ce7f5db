"""PDF of a full ER-Sociaux-sized dossier (21 sheets, 9,804 fields, every input filled, the
computed fields evaluated by the engine). Target ≤ 20 s. No database: the sheet layouts and
fields come straight from the workbook, as an upload derives them. One JSON line."""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass

import django
from form_fixture import er_artifact, er_workbook, report

# the renderer's module sits beside the dossier's (Django) model reads: load the apps, though
# this benchmark touches no database
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonia.settings.test")
django.setup()

from harmonia.workbook_safety import workbook_open  # noqa: E402

from declarations.pdf.render import render_pdf  # noqa: E402
from forms_cms.engine import CompiledForm, XLError  # noqa: E402
from forms_cms.workbook.catalogue import catalogue_read  # noqa: E402
from forms_cms.workbook.layout import sheet_layouts  # noqa: E402


@dataclass(frozen=True)
class Info:
    computed: bool
    data_type: str
    number_format: str


def plausible(spec, rng: random.Random):
    if spec.data_type == "amount":
        return round(rng.uniform(-250_000, 48_000_000), 2)
    if spec.data_type == "integer":
        return float(rng.randint(0, 12_000))
    if spec.data_type == "percentage":
        return round(rng.random(), 4)
    if spec.data_type == "date":
        return float(45292 + rng.randint(0, 365))  # a day of 2024
    if spec.data_type == "choice":
        return rng.choice(spec.choices) if spec.choices else ""
    return f"Observation saisie pour {spec.name.lower().replace('_', ' ')}"


def stored(value):
    if value.__class__ is XLError:
        return {"error": value.code}
    return 0 if value is None else value


workbook = er_workbook()
content = workbook.read_bytes()
wb = workbook_open(content, workbook.name)
catalogue = catalogue_read(wb, source=content)
layouts = sheet_layouts(wb, catalogue.fields_by_cell())
fields = {
    spec.name: Info(spec.kind == "computed", spec.data_type, spec.number_format)
    for spec in catalogue.fields
}
rng = random.Random(2024)
# the single cells get a value each; the lists' columns (Excel Tables) stay without rows
cells = [spec for spec in catalogue.fields if not spec.table]
values = {spec.name: plausible(spec, rng) for spec in cells if spec.kind != "computed"}
form = CompiledForm.loads(er_artifact().read_bytes())
evaluated = form.values_by_name(form.evaluate(values, workbook_inputs=False))
computed = {
    spec.name: stored(evaluated.get(spec.name)) for spec in cells if spec.kind == "computed"
}
header = {
    "organism": "Office public de l'habitat de Rhône-Saône",
    "siren": "412345678",
    "exercise": 2024,
    "document": "États réglementaires sociaux",
    "version": 1,
    "step": "Saisie en cours",
    "generated_at": dt.datetime(2025, 4, 30, 16, 5),
}
sheets = []
started = time.perf_counter()
pdf = render_pdf(
    header, layouts, fields, values, computed, progress=lambda done, total: sheets.append(done)
)
elapsed = time.perf_counter() - started
assert pdf.startswith(b"%PDF") and len(sheets) == sum(1 for x in layouts if not x.get("hidden"))
report(
    "pdf_er_sociaux",
    round(elapsed, 2),
    "s",
    20,
    sheets=len(sheets),
    fields=len(fields),
    pdf_bytes=len(pdf),
)
