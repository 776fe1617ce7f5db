"""``{% help_link %}``: « Aide sur cette page », on the main pages of a platform."""

from urllib.parse import urlencode

from django import template
from django.db import connection
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from accounts.models import PLATFORM_ROLES
from faq_wiki.help import HELP_TOPICS

register = template.Library()


@register.inclusion_tag("faq_wiki/help_link.html", takes_context=True)
def help_link(context) -> dict:
    """The link to the help about the current page, when the help has a section about it
    (no query: the section is chosen when the link is followed). Nothing on the public host,
    which has no help pages, nor for visitors, who may not read them."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if (
        match is None
        or match.view_name not in HELP_TOPICS
        or connection.schema_name == get_public_schema_name()
        or user is None
        or not user.is_authenticated
        or user.role not in PLATFORM_ROLES
    ):
        return {"help_href": None}
    return {"help_href": f"{reverse('faq_wiki:help_for')}?{urlencode({'vue': match.view_name})}"}
