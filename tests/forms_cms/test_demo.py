import pytest
from django_tenants.utils import schema_context

from fixtures.form_workbooks import KINDS
from forms_cms.demo import load_demo_forms
from forms_cms.models import FormVersion

pytestmark = pytest.mark.django_db


def test_demo_forms_are_uploaded_once(platforms, monkeypatch):
    from forms_cms import demo

    # the smallest demo forms keep the test quick; the real sizes are tested elsewhere
    monkeypatch.setattr(demo, "DEMO_FORMS", {"dhup": {"ER_MOI": "er_moi"}})
    assert load_demo_forms() == {"dhup": ["ER_MOI"]}
    assert load_demo_forms() == {}
    with schema_context("dhup"):
        version = FormVersion.objects.get(document_type__code="ER_MOI")
        assert version.input_count + version.computed_count == 22


def test_every_document_of_the_ministry_and_coop_platforms_has_a_demo_form():
    """The ministry's five ER and the coopératives' QDIS and three surveys; the other
    federations show their QDIS."""
    from forms_cms.demo import DEMO_FORMS
    from tenants.platforms import PLATFORMS

    for spec in PLATFORMS:
        codes = [code for code, _label in spec.document_types]
        if spec.code in ("dhup", "coop"):
            assert list(DEMO_FORMS[spec.code]) == codes, spec.code
        else:
            assert set(DEMO_FORMS[spec.code]) <= set(codes), spec.code
            assert any(code.startswith("QDIS_") for code in DEMO_FORMS[spec.code])
    kinds = [kind for forms in DEMO_FORMS.values() for kind in forms.values()]
    assert sorted(kinds) == sorted(KINDS)  # every kind is shown once


def test_small_demo_forms_are_uploaded_on_their_platforms(platforms, monkeypatch):
    from forms_cms import demo

    small = {
        code: {doc: kind for doc, kind in forms.items() if KINDS[kind]["fields"] <= 400}
        for code, forms in demo.DEMO_FORMS.items()
    }
    small = {code: forms for code, forms in small.items() if forms}
    assert small == {
        "dhup": {"ER_MOI": "er_moi", "ER_SEM": "er_sem"},
        "coop": {
            "ENQUETE_ACTIVITE": "enquete_activite",
            "ENQUETE_EFFECTIF": "enquete_effectif",
            "ENQUETE_SOCIETARIAT": "enquete_societariat",
        },
    }
    monkeypatch.setattr(demo, "DEMO_FORMS", small)
    assert load_demo_forms() == {code: list(forms) for code, forms in small.items()}
    for code, forms in small.items():
        with schema_context(code):
            for document, kind in forms.items():
                version = FormVersion.objects.get(document_type__code=document)
                spec = KINDS[kind]
                assert (version.input_count, version.computed_count) == (
                    spec["input"],
                    spec["computed"],
                ), document
                assert version.common_count == spec["tc"], document
                assert version.source_name == f"{document} 2024.xlsx"
    assert load_demo_forms() == {}
