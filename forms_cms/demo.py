"""Demo form versions: the generated workbooks at the real sizes, uploaded on each platform."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django_tenants.utils import schema_context

from accounts.models import User
from forms_cms.models import DocumentType, FormVersion
from forms_cms.selectors import campaigns
from forms_cms.services import form_version_import

# platform → document type → fixtures.form_workbooks kind
DEMO_FORMS = {
    "dhup": {
        "ER_SOCIAUX": "er_sociaux",
        "ER_SAC": "er_sac",
        "ER_GROUPES": "er_groupes",
        "ER_MOI": "er_moi",
        "ER_SEM": "er_sem",
    },
    "oph": {"QDIS_OPH": "qdis_oph"},
    "esh": {"QDIS_ESH": "qdis_esh"},
    "coop": {
        "QDIS_COOP": "qdis_coop",
        "ENQUETE_ACTIVITE": "enquete_activite",
        "ENQUETE_EFFECTIF": "enquete_effectif",
        "ENQUETE_SOCIETARIAT": "enquete_societariat",
    },
    "epl": {"QDIS_SEM": "qdis_sem"},
}


def load_demo_forms(*, exercise: int = 2024, only: set[str] | None = None) -> dict[str, list[str]]:
    """Upload a first version of each demo form where its document type has none (idempotent).
    ``only``: the document type codes to upload (all when None), e.g. {"ER_SOCIAUX"} for a
    quick setup (ops/prod_smoke.py)."""
    from fixtures.form_workbooks import form_workbook_build

    uploaded: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for code, forms in DEMO_FORMS.items():
            with schema_context(code):
                campaign = campaigns().filter(exercise=exercise).first()
                gestionnaire = User.objects.filter(username="gestionnaire").first()
                if campaign is None or gestionnaire is None:
                    continue
                for type_code, kind in forms.items():
                    if only is not None and type_code not in only:
                        continue
                    document_type = DocumentType.objects.filter(code=type_code).first()
                    if (
                        document_type is None
                        or FormVersion.objects.filter(document_type=document_type).exists()
                    ):
                        continue
                    path = form_workbook_build(kind, Path(folder) / f"{kind}.xlsx")
                    form_version_import(
                        document_type=document_type,
                        campaign=campaign,
                        file_name=f"{type_code} {exercise}.xlsx",
                        content=path.read_bytes(),
                        acting_user=gestionnaire,
                    )
                    uploaded.setdefault(code, []).append(type_code)
    return uploaded
