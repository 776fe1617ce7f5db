"""Deadlines of transmission: the rules' arithmetic (pure functions, no database).

A rule (``workflow.models.DeadlineRule``) says, for one document type and one family (and, for
an OPH, one accounting regime), how an organism's deadline is computed:

- ``fixed``: a day of the year (« 15/07 »), the first one after the exercise's closing day;
- ``after_approval``: N days after the approval of the accounts (OPH in comptabilité publique:
  fifteen days);
- ``month_after_assembly``: by the last day of the month following the month of the general
  assembly that approved the accounts (ESH, COOP, SEM: CCH R*423-78 and R.481-14);
- ``campaign``: the campaign's date (a federation's own date, and every document with no rule).

A rule may also cap its date at the campaign's (« au plus tard le 31 juillet », as the
federations' letter says). A recorded prorogation replaces all that with its new date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from forms_cms.engine import serial_to_ymd

FIXED = "fixed"
AFTER_APPROVAL = "after_approval"
MONTH_AFTER_ASSEMBLY = "month_after_assembly"
CAMPAIGN = "campaign"
KIND_CHOICES = [
    (FIXED, "Date fixe (jj/mm suivant la clôture de l'exercice)"),
    (AFTER_APPROVAL, "N jours après l'approbation des comptes"),
    (MONTH_AFTER_ASSEMBLY, "Dans le mois suivant celui de l'assemblée générale"),
    (CAMPAIGN, "Date limite de la campagne"),
]
NEEDS_APPROVAL = (AFTER_APPROVAL, MONTH_AFTER_ASSEMBLY)
LAST_SERIAL = 2958465  # 31/12/9999, the last day a spreadsheet holds
DUE_SOON_DAYS = 15
MISSING_APPROVAL = (
    "date d'approbation des comptes de l'exercice {exercise} non renseignée (à saisir par "
    "l'organisme ou son gestionnaire)"
)


def day_of_year(text: str, year: int) -> date:
    """« jj/mm » in ``year``; 29/02 is the last day of February in a common year."""
    day, _, month = text.partition("/")
    month_n = int(month)
    last = calendar.monthrange(year, month_n)[1]
    return date(year, month_n, min(int(day), last))


def closing_date(closing: str, exercise: int) -> date:
    """The day exercise ``exercise`` closes (an organism's « jj/mm », in that year)."""
    return day_of_year(closing, exercise)


def first_after(text: str, after: date) -> date:
    """The first « jj/mm » strictly after ``after``."""
    candidate = day_of_year(text, after.year)
    return candidate if candidate > after else day_of_year(text, after.year + 1)


def end_of_next_month(day: date) -> date:
    """The last day of the month following ``day``'s month."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Deadline:
    """An organism's deadline for one document of one campaign.

    ``day`` is None when the rule lacks a fact (``missing`` says which); ``latest`` is the cap
    that still applies then (the campaign's date), so that an organism is late past it."""

    day: date | None
    rule: str  # what the date follows, in words
    missing: str = ""
    latest: date | None = None
    prorogated: bool = False

    @property
    def effective(self) -> date | None:
        """The day past which the organism is late (the cap when the date is to be stated)."""
        return self.day or self.latest

    def days_left(self, today: date) -> int | None:
        return None if self.effective is None else (self.effective - today).days


def compute(
    *,
    kind: str,
    exercise: int,
    closing: str,
    campaign_deadline: date,
    param: str = "",
    days: int = 0,
    approved_on: date | None = None,
    capped: bool = False,
    prorogation: date | None = None,
) -> Deadline:
    """The deadline a rule gives one organism (see the module's docstring)."""
    if prorogation is not None:
        return Deadline(prorogation, "prorogation accordée", prorogated=True)
    if kind == FIXED:
        day = first_after(param, closing_date(closing, exercise))
        rule = f"date fixe du {param}"
    elif kind in NEEDS_APPROVAL:
        if approved_on is None:
            return Deadline(
                None,
                _rule_words(kind, days),
                missing=MISSING_APPROVAL.format(exercise=exercise),
                latest=campaign_deadline if capped else None,
            )
        if kind == AFTER_APPROVAL:
            day = approved_on + timedelta(days=days)
        else:
            day = end_of_next_month(approved_on)
        rule = f"{_rule_words(kind, days)} (approbation le {approved_on:%d/%m/%Y})"
    else:
        return Deadline(campaign_deadline, "date limite de la campagne")
    if capped and campaign_deadline < day:
        return Deadline(campaign_deadline, f"{rule}, au plus tard à la date de la campagne")
    return Deadline(day, rule)


def _rule_words(kind: str, days: int) -> str:
    if kind == AFTER_APPROVAL:
        return f"{days} jours après l'approbation des comptes"
    return "le mois suivant celui de l'assemblée générale"


def serial_to_date(value) -> date | None:
    """A date entered in a form field (the engine's serial number) as a date, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 61 <= value <= LAST_SERIAL:  # before 1 March 1900 is no approval date
        return None
    return date(*serial_to_ymd(value))
