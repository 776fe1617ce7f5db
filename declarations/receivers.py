"""The declarations' receivers (connected in ``DeclarationsConfig.ready``)."""

from __future__ import annotations

from declarations.services.tc_pairs import tc_pairs_seed
from forms_cms.receivers import document_types_seed
from tenants.services import gestionnaires_grant


def platform_seed(*, platform, spec, **kwargs) -> None:
    """``tenants.signals.platform_prepared``: on the ministry platform, the tronc-commun pairs
    of a fresh install (once: then the gestionnaires'; the document types they name are
    seeded first). The administrative journal (Wagtail's site-history report) shows
    gestionnaires only the entries about object types they may read: read right on the
    journalled API tokens and tronc-commun pairs."""
    if spec is not None and spec.kind == "ministry":
        document_types_seed(spec)
        tc_pairs_seed()
    gestionnaires_grant("declarations", ["view_apitoken", "view_tronccommunpair"])
