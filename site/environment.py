"""Which kind of installation this is: production, the test platform (« recette ») or a
developer's machine. Pure settings reading, below every app's layer.

Outside production every page carries a banner, every e-mail's subject a prefix and every
e-mail goes to one catch-all address (``harmonia.mail``), and nothing is transmitted to
partners automatically (``partners.services``): people testing on a copy of production must
never be taken for the real service, and no real person or partner may hear from it.
"""

from __future__ import annotations

from django.conf import settings

PRODUCTION = "production"
RECETTE = "recette"
DEVELOPMENT = "development"
ENVIRONMENTS = (PRODUCTION, RECETTE, DEVELOPMENT)

# (banner text, e-mail subject prefix) of each environment but production
_LABELS = {
    RECETTE: (
        "Plateforme de recette (tests) : les données sont fictives ou pseudonymisées, rien "
        "de ce qui est saisi ici n'est pris en compte ni transmis aux partenaires.",
        "[RECETTE]",
    ),
    DEVELOPMENT: (
        "Environnement de développement : rien de ce qui est saisi ici n'est pris en compte "
        "ni transmis aux partenaires.",
        "[DÉVELOPPEMENT]",
    ),
}


def current() -> str:
    return settings.HARMONIA_ENVIRONMENT


def is_production() -> bool:
    return current() == PRODUCTION


def banner_text() -> str:
    """The sentence every page shows outside production ("" in production)."""
    return _LABELS.get(current(), ("", ""))[0]


def subject_prefix() -> str:
    """What every e-mail's subject starts with outside production ("" in production)."""
    return _LABELS.get(current(), ("", ""))[1]


def context(request) -> dict:
    """Template context processor: the banner of base.html."""
    return {"environment_banner": banner_text(), "environment": current()}
