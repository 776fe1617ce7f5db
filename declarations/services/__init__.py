from declarations.services.dossiers import (
    NoFormVersion,
    SaveRefused,
    SaveResult,
    dossier_open,
    dossier_values_apply,
    dossier_values_save,
)

__all__ = [
    "NoFormVersion",
    "SaveRefused",
    "SaveResult",
    "dossier_open",
    "dossier_values_apply",
    "dossier_values_save",
]
