"""The deadline rules' arithmetic at its boundaries (pure functions, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from forms_cms.engine import date_to_serial
from workflow import deadlines
from workflow.deadlines import compute

CAMPAIGN = date(2026, 7, 31)


def rule(kind, **kwargs):
    facts = {"exercise": 2025, "closing": "31/12", "campaign_deadline": CAMPAIGN}
    return compute(kind=kind, **{**facts, **kwargs})


@pytest.mark.parametrize(
    ("approved_on", "expected"),
    [
        (date(2026, 6, 30), date(2026, 7, 15)),  # approved on the last day allowed
        (date(2026, 6, 20), date(2026, 7, 5)),
        (date(2026, 12, 20), date(2027, 1, 4)),  # across the year's end
        (date(2028, 2, 14), date(2028, 2, 29)),  # a leap year's February
        (date(2027, 2, 14), date(2027, 3, 1)),
    ],
)
def test_n_days_after_the_approval(approved_on, expected):
    deadline = rule(deadlines.AFTER_APPROVAL, days=15, approved_on=approved_on)
    assert deadline.day == expected
    assert "15 jours après l'approbation" in deadline.rule
    assert approved_on.strftime("%d/%m/%Y") in deadline.rule


@pytest.mark.parametrize(
    ("assembly", "expected"),
    [
        (date(2026, 6, 30), date(2026, 7, 31)),  # the 30th of a 30-day month
        (date(2026, 6, 1), date(2026, 7, 31)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # a 31st → a 28-day month
        (date(2028, 1, 31), date(2028, 2, 29)),  # … a leap year's
        (date(2026, 5, 31), date(2026, 6, 30)),
        (date(2026, 12, 15), date(2027, 1, 31)),  # December → January of the next year
    ],
)
def test_within_the_month_following_the_general_assembly(assembly, expected):
    assert rule(deadlines.MONTH_AFTER_ASSEMBLY, approved_on=assembly).day == expected


def test_the_campaign_caps_a_capped_rule():
    late_assembly = rule(deadlines.MONTH_AFTER_ASSEMBLY, approved_on=date(2026, 7, 10), capped=True)
    assert late_assembly.day == CAMPAIGN
    assert "au plus tard" in late_assembly.rule
    early = rule(deadlines.MONTH_AFTER_ASSEMBLY, approved_on=date(2026, 5, 10), capped=True)
    assert early.day == date(2026, 6, 30)
    uncapped = rule(deadlines.MONTH_AFTER_ASSEMBLY, approved_on=date(2026, 7, 10))
    assert uncapped.day == date(2026, 8, 31)


def test_a_missing_approval_leaves_the_date_to_be_stated():
    missing = rule(deadlines.AFTER_APPROVAL, days=15)
    assert missing.day is None and missing.effective is None
    assert "date d'approbation des comptes de l'exercice 2025 non renseignée" in missing.missing
    assert missing.days_left(date(2026, 8, 1)) is None
    # capped: still to be stated, but late past the campaign's date all the same
    capped = rule(deadlines.MONTH_AFTER_ASSEMBLY, capped=True)
    assert capped.day is None and capped.latest == CAMPAIGN and capped.effective == CAMPAIGN
    assert capped.days_left(date(2026, 8, 1)) == -1


@pytest.mark.parametrize(
    ("closing", "exercise", "expected"),
    [
        ("31/12", 2025, date(2026, 7, 15)),
        ("30/06", 2025, date(2025, 7, 15)),  # a SEM closing in June: the next 15 July
        ("15/07", 2025, date(2026, 7, 15)),  # the day itself is not « after » the closing
        ("29/02", 2027, date(2027, 7, 15)),  # 29/02 in a common year closes on the 28th
    ],
)
def test_a_fixed_day_after_the_closing(closing, exercise, expected):
    deadline = rule(deadlines.FIXED, param="15/07", closing=closing, exercise=exercise)
    assert deadline.day == expected


def test_a_fixed_29_february_in_a_common_year_is_its_28th():
    assert rule(deadlines.FIXED, param="29/02").day == date(2026, 2, 28)
    assert rule(deadlines.FIXED, param="29/02", exercise=2027).day == date(2028, 2, 29)


def test_the_campaign_rule_and_the_prorogation():
    assert rule(deadlines.CAMPAIGN).day == CAMPAIGN
    prorogated = rule(
        deadlines.AFTER_APPROVAL, days=15, approved_on=date(2026, 6, 30),
        prorogation=date(2026, 9, 30),
    )  # fmt: skip
    assert prorogated.day == date(2026, 9, 30) and prorogated.prorogated
    # a prorogation also gives a date to a rule that lacked its fact
    assert rule(deadlines.AFTER_APPROVAL, days=15, prorogation=date(2026, 9, 30)).day


def test_days_left_counts_calendar_days():
    deadline = rule(deadlines.CAMPAIGN)
    assert deadline.days_left(date(2026, 7, 31)) == 0
    assert deadline.days_left(date(2026, 7, 16)) == 15
    assert deadline.days_left(date(2026, 8, 1)) == -1


@pytest.mark.parametrize(
    "day", [date(2026, 6, 30), date(2028, 2, 29), date(2000, 1, 1), date(1900, 3, 1)]
)
def test_a_date_typed_in_a_form_field_reads_back(day):
    assert deadlines.serial_to_date(date_to_serial(day)) == day


@pytest.mark.parametrize("value", [None, "30/06/2026", True, 0, 60, -5, 3e6])
def test_what_is_not_a_date_in_a_form_field_is_none(value):
    assert deadlines.serial_to_date(value) is None
