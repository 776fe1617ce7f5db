import pytest

from forms_cms.formats import NBSP, NNBSP, Invalid, entry_text, format_value, parse_value


@pytest.mark.parametrize(
    ("data_type", "typed", "stored"),
    [
        ("amount", "1 234 567,89", 1234567.89),
        ("amount", "1\u202f234,5", 1234.5),
        ("amount", "-250", -250.0),
        ("amount", "(1 000,00)", -1000.0),
        ("amount", "1.234.567,89", 1234567.89),
        ("amount", "12.5", 12.5),
        ("amount", "  ", None),
        ("amount", "1 234 €", 1234.0),
        ("integer", "1 250", 1250.0),
        ("percentage", "12,5 %", 0.125),
        ("percentage", "100", 1.0),
        ("date", "31/12/2024", 45657.0),
        ("date", "2024-12-31", 45657.0),
        ("date", "1/3/24", 45352.0),
        ("text", "  Office public  ", "Office public"),
    ],
)
def test_accepted_entries(data_type, typed, stored):
    assert parse_value(data_type, typed) == stored


@pytest.mark.parametrize(
    ("data_type", "typed", "message"),
    [
        ("amount", "douze", "Montant attendu"),
        ("amount", "1,234", "Deux décimales au plus"),
        ("amount", "1e5", "Montant attendu"),
        ("integer", "12,5", "Nombre entier attendu, sans décimales"),
        ("percentage", "beaucoup", "Pourcentage attendu"),
        ("date", "31/02/2024", "Cette date n'existe pas : 31/02/2024"),
        ("date", "2024/13", "Date attendue au format jj/mm/aaaa"),
        ("text", "x" * 2001, "Texte trop long"),
    ],
)
def test_refused_entries_say_what_to_type(data_type, typed, message):
    result = parse_value(data_type, typed)
    assert isinstance(result, Invalid)
    assert message in result.message


def test_choice():
    assert parse_value("choice", "oui", choices=["Oui", "Non"]) == "Oui"
    assert "Oui, Non" in parse_value("choice", "peut-être", choices=["Oui", "Non"]).message


@pytest.mark.parametrize(
    ("value", "data_type", "fmt", "shown"),
    [
        (1234567.891, "amount", "#,##0.00", f"1{NNBSP}234{NNBSP}567,89"),
        (-1234.5, "amount", "#,##0.00", f"−1{NNBSP}234,50"),
        (1250.0, "integer", "#,##0", f"1{NNBSP}250"),
        (2024.0, "integer", "0", "2024"),
        (1234.5, "amount", "0.00", "1234,50"),
        (1234.5, "amount", "", f"1{NNBSP}234,50"),
        (0.125, "percentage", "0.00%", f"12,50{NBSP}%"),
        (45657.0, "date", "dd/mm/yyyy", "31/12/2024"),
        ({"error": "#DIV/0!"}, "amount", "", "#DIV/0!"),
        (None, "amount", "", ""),
        (True, "text", "", "VRAI"),
        (-0.001, "amount", "#,##0.00", "0,00"),
    ],
)
def test_display(value, data_type, fmt, shown):
    assert format_value(value, data_type, fmt) == shown


def test_entry_text_round_trips():
    for data_type, value in [("amount", 1234.5), ("percentage", 0.125), ("date", 45657.0)]:
        assert parse_value(data_type, entry_text(value, data_type)) == value


def test_displayed_text_is_accepted_back():
    cases = [
        ("amount", -1234.5, "#,##0.00"),
        ("integer", 1250.0, "0"),
        ("percentage", 0.125, "0.00%"),
    ]
    for data_type, value, fmt in cases:
        assert parse_value(data_type, format_value(value, data_type, fmt)) == value
