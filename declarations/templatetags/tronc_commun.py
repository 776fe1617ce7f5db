"""``{% load tronc_commun %}``: the tronc-commun bridge on the dossier screens, without the
views passing anything new."""

from django import template

from declarations.services.tronc_commun import (
    NothingToSync,
    counterpart_of,
    is_tc_owner,
    platform_short_name,
)

register = template.Library()


@register.simple_tag
def tc_counterpart_name(dossier, user) -> str:
    """The counterpart platform's name when ``user`` is one of the dossier's own organisme
    users and the dossier shares a tronc commun with another platform; otherwise ""."""
    if dossier is None or not is_tc_owner(dossier, user):
        return ""
    try:
        code, _ = counterpart_of(dossier)
    except NothingToSync:
        return ""
    return platform_short_name(code)


@register.filter
def platform_name(code: str) -> str:
    """A platform's short name from its code (the journal stores codes)."""
    try:
        return platform_short_name(code)
    except KeyError:
        return code
