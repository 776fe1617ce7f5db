import pytest
from django_tenants.utils import schema_context

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
