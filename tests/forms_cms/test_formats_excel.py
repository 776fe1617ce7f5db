"""Numbers shown as Excel shows them: rounding half away from zero at the displayed
precision, and the sections of a number format."""

from __future__ import annotations

import pytest

from forms_cms.formats import (
    MINUS,
    NBSP,
    NNBSP,
    excel_round,
    format_cell,
    format_number,
    format_value,
    parse_value,
)


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (0.125, 2, "0,13"),  # Python's round and %f: 0,12
        (-0.125, 2, f"{MINUS}0,13"),
        (2.675, 2, "2,68"),  # the binary value is 2,67499999…: Excel reads 2,675
        (1.3375 * 2, 2, "2,68"),  # a computed 2,6749999999999998 is 2,675 at 15 digits
        (1.005, 2, "1,01"),
        (0.5, 0, "1"),
        (2.5, 0, "3"),  # half to even would give 2
        (-2.5, 0, f"{MINUS}3"),
        (1234.5, 0, f"1{NNBSP}235"),
        (0.0049, 2, "0,00"),
        (-0.004, 2, "0,00"),  # rounds to zero: no sign
    ],
)
def test_rounding_is_half_away_from_zero_at_the_displayed_precision(value, decimals, shown):
    assert format_number(value, decimals) == shown


@pytest.mark.parametrize(
    ("value", "data_type", "fmt", "shown"),
    [
        (0.125, "amount", "", "0,13"),
        (0.125, "amount", "#,##0.00", "0,13"),
        (0.00145, "percentage", "0.00%", f"0,15{NBSP}%"),  # 0,145 % → 0,15 %
        (0.125, "percentage", "0%", f"13{NBSP}%"),
        (-0.00125, "percentage", "0.00%", f"{MINUS}0,13{NBSP}%"),
        (0.125, "percentage", "", f"12,50{NBSP}%"),
        (1234.565, "amount", "#,##0.00", f"1{NNBSP}234,57"),
    ],
)
def test_fields_round_like_excel(value, data_type, fmt, shown):
    assert format_value(value, data_type, fmt) == shown


def test_excel_round_reads_the_decimal_writing():
    assert str(excel_round(2.675, 2)) == "2.68"
    assert str(excel_round(-0.125, 2)) == "-0.13"
    assert str(excel_round(1e-20, 2)) == "0.00"


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (-1234.5, "#,##0.00;(#,##0.00)", f"(1{NNBSP}234,50)"),
        (-1234.5, "#,##0.00_);[Red](#,##0.00)", f"(1{NNBSP}234,50)"),  # red ignored
        (1234.5, "#,##0.00_);[Red](#,##0.00)", f"1{NNBSP}234,50"),
        (-1234.5, "#,##0.00", f"{MINUS}1{NNBSP}234,50"),
        (-1234.5, "#,##0.00;[Red]\\-#,##0.00", f"{MINUS}1{NNBSP}234,50"),
        (0, '#,##0;-#,##0;"-"', "-"),
        (1234567, "#,##0,", f"1{NNBSP}235"),  # thousands
        (1234.5, '#,##0.00\\ "€"', f"1{NNBSP}234,50{NBSP}€"),
        (1234.5, "#,##0.00 [$€-40C]", f"1{NNBSP}234,50{NBSP}€"),
        (1234.0, "0.0#", "1234,0"),
        (1234.567, "0.0#", "1234,57"),
        (2024, "0", "2024"),
        (1e24, "0.00E+00", "1,00E+24"),
    ],
)
def test_number_format_sections(value, fmt, shown):
    assert format_value(value, "amount", fmt) == shown


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (2024, "", "2024"),  # General never groups: a year stays a year
        (0.125, "General", "0,125"),
        (1 / 3, "", "0,333333333"),
        (45657, "dd/mm/yyyy", "31/12/2024"),
        (45657, "mmm-yy", "déc.-24"),
        (45383, "d mmm yyyy", "1 avr. 2024"),
        (45566, "[$-40C]mmmm yyyy", "octobre 2024"),
        (45657.75, "dd/mm/yyyy hh:mm", "31/12/2024 18:00"),
        (45657, "dddd d mmmm", "mardi 31 décembre"),
        ("Capital", '"Note : "@', "Note : Capital"),
        (12, "@", "12"),
        (-1234.5, "#,##0.00;[Red](#,##0.00)", f"(1{NNBSP}234,50)"),
    ],
)
def test_workbook_constants_as_excel_shows_them(value, fmt, shown):
    assert format_cell(value, fmt) == shown


def test_displayed_amounts_in_parentheses_are_accepted_back():
    shown = format_value(-1234.5, "amount", "#,##0.00;(#,##0.00)")
    assert parse_value("amount", shown) == -1234.5
