"""``{% load exchanges %}{% unread_messages dossier user as n %}``: unread messages of a
dossier's exchange space for one person (0 for whoever may not read it)."""

from django import template

from exchanges.selectors import exchange_allowed, unread_count

register = template.Library()


@register.simple_tag
def unread_messages(dossier, user) -> int:
    if dossier is None or not exchange_allowed(dossier, user):
        return 0
    return unread_count(dossier, user)
