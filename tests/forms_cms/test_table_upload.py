"""Uploading a support with Excel Tables: what the platform refuses, every problem listed with
its sheet, cell and name, and nothing stored."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django_tenants.utils import schema_context

from forms_cms.models import FormVersion
from forms_cms.services import FormImportError

from .engine.test_tables import book
from .test_versions import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def refused(content, user) -> str:
    with pytest.raises(FormImportError) as caught:
        upload("dhup", content, user=user)
    with schema_context("dhup"):
        assert not FormVersion.objects.exists()
    return "\n".join(caught.value.problems)


def test_every_table_problem_is_listed(gestionnaire):
    content = book(
        names=("T_NOM", None, "T_PART"),
        table="Table_é",
        cells={"F1": "=SUM(T[Capitale])", "F2": "=SUM(Table_é[Capitale])"},
        extra_names={"DANS_TABLEAU": "S!$B$4"},
    )
    problems = refused(content, gestionnaire)
    assert "feuille « S », cellule B3" in problems
    assert "la colonne « Capital » du tableau Table_é n'a pas de nom" in problems
    assert "« Table_é » ne peut pas servir d'élément XML" in problems
    assert "le tableau T n'existe pas dans ce classeur" in problems
    assert "le tableau Table_é n'a pas de colonne « Capitale »" in problems
    assert "nom DANS_TABLEAU" in problems and "désigne une cellule du tableau" in problems


def test_two_tables_with_one_name_are_named(gestionnaire):
    content = book(second_table="Autre")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/tables/"):
                data = re.sub(rb'(displayName|name)="Autre"', rb'\1="T"', data)
            out.writestr(item, data)
    problems = refused(buffer.getvalue(), gestionnaire)
    assert "contient deux tableaux nommés « T »" in problems


def test_a_good_table_is_accepted(gestionnaire):
    version = upload("dhup", book(cells={"F1": "=SUM(T[Part])"}), user=gestionnaire)
    with schema_context("dhup"):
        assert version.fields.filter(table="T").count() == 3
