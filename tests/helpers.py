"""Small steps several test modules share."""

from __future__ import annotations

import html
import re

from django_tenants.utils import schema_context

from workflow.actions import dossier_transition
from workflow.models import FiabilisationStep


def fire(dossier, action: str, user, schema: str = "dhup", **kwargs):
    """Fire a lifecycle action through the service, inside the platform's schema; a sub-step
    may be given by its code."""
    with schema_context(schema):
        if isinstance(kwargs.get("substep"), str):
            kwargs["substep"] = FiabilisationStep.objects.get(code=kwargs["substep"])
        change = dossier_transition(dossier=dossier, action=action, acting_user=user, **kwargs)
        _ = dossier.substep  # loaded here, inside the platform's schema
        return change


def transmit(dossier, declarant, schema: str = "dhup"):
    """Validate then transmit (the dossier must pass its checks)."""
    fire(dossier, "validate", declarant, schema)
    return fire(dossier, "transmit", declarant, schema)


def text_of(response) -> str:
    """The response body with HTML entities decoded (apostrophes are escaped in pages)."""
    return html.unescape(response.content.decode())


def without_tokens(page: str) -> str:
    """The page without its CSRF tokens: random text in which a figure such as « 50 » may
    appear by chance (every page holds one, in the header's sign-out form)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
