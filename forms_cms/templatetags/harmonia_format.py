"""French display filters for templates: ``{% load harmonia_format %}``.

``USE_THOUSAND_SEPARATOR`` groups every integer a template prints (« 1 234 dossiers »), years
included: ``{{ campaign.exercise|year }}`` prints « 2024 », never « 2 024 ».
``{{ moment|month_abbr }}`` prints the French abbreviation of its month (« avr. », « déc. »).
``{{ n|counted:"contrôle satisfait,contrôles satisfaits" }}`` prints the number and the words
in the singular or the plural as French does (« 0 contrôle satisfait », « 2 contrôles … »).
"""

from __future__ import annotations

import datetime as dt

from django import template
from harmonia.french import counted as _counted

from forms_cms.formats import format_year
from forms_cms.formats import month_abbr as _month_abbr

register = template.Library()


@register.filter
def year(value) -> str:
    """An exercise or calendar year as text, without thousands separator."""
    if value is None or value == "":
        return ""
    return format_year(value)


@register.filter
def month_abbr(value) -> str:
    """The French abbreviation of a date's month, or of a month number (1–12)."""
    if isinstance(value, dt.date):
        return _month_abbr(value.month)
    try:
        return _month_abbr(int(value))
    except (TypeError, ValueError, IndexError):
        return ""


@register.filter
def counted(value, forms: str) -> str:
    """``value`` (a number, or a collection: its length) followed by ``forms`` ("one,many")
    in the singular or the plural."""
    one, _, many = forms.partition(",")
    count = value if isinstance(value, int) else len(value)
    return _counted(count, one, many or one)
