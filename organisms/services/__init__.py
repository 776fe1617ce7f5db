from organisms.services.memberships import (
    TooManyOrganismUsers,
    membership_bind,
)
from organisms.services.registry_import import (
    RegistryFileError,
    RegistryReport,
    organisms_import,
    registry_file_parse,
)

__all__ = [
    "RegistryFileError",
    "RegistryReport",
    "TooManyOrganismUsers",
    "membership_bind",
    "organisms_import",
    "registry_file_parse",
]
