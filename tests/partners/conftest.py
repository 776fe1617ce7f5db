"""A dhup dossier of the demo's first organism, and helpers to move it and read as a partner."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from declarations.services import dossier_values_save
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.helpers import fire, transmit  # noqa: F401  (shared with the partners tests)


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "1234,5", "PAS_CAPITAL": "10"},
            acting_user=declarant,
        )
    return dossier


def partner(**filters):
    from organisms.models import Partner

    with schema_context("dhup"):
        return Partner.objects.get(**filters)
