from declarations.services.dossiers import (
    DossierClosed,
    NoFormVersion,
    SaveRefused,
    SaveResult,
    dossier_open,
    dossier_table_save,
    dossier_values_apply,
    dossier_values_save,
)

__all__ = [
    "DossierClosed",
    "NoFormVersion",
    "SaveRefused",
    "SaveResult",
    "dossier_open",
    "dossier_values_apply",
    "dossier_table_save",
    "dossier_values_save",
]
