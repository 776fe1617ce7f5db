"""SIREN numbers (Luhn key, normalisation) and département codes: pure functions."""

import pytest
from django.core.exceptions import ValidationError

from organisms.models import validate_siren
from organisms.siren import (
    DEPARTEMENTS,
    luhn_ok,
    normalize_departement,
    normalize_siren,
    siren_error,
    with_luhn_key,
)


@pytest.mark.parametrize("siren", ["552100554", "732829320", "542065479", "356000000"])
def test_known_sirens_are_valid(siren):
    assert luhn_ok(siren)
    assert siren_error(siren) is None
    validate_siren(siren)  # no exception


@pytest.mark.parametrize("siren", ["552100555", "552100564", "652100554", "732829321"])
def test_a_changed_digit_breaks_the_luhn_key(siren):
    assert not luhn_ok(siren)
    assert siren_error(siren) == (
        f"SIREN « {siren} » invalide : la clé de contrôle (Luhn) ne correspond pas."
    )


def test_every_single_digit_change_of_a_valid_siren_is_caught():
    valid = "552100554"
    for position in range(9):
        for digit in "0123456789":
            if digit == valid[position]:
                continue
            changed = valid[:position] + digit + valid[position + 1 :]
            assert siren_error(changed) is not None, changed


@pytest.mark.parametrize("siren", ["55210055", "5521005540", "55210055A", "ABCDEFGHI", "552-10055"])
def test_wrong_length_or_letters_are_refused_with_the_length_message(siren):
    assert siren_error(siren) == (
        f"SIREN « {siren} » invalide : il doit comporter exactement 9 chiffres."
    )


def test_missing_siren():
    assert siren_error("") == "SIREN manquant."


def test_model_validator_raises_the_french_message():
    with pytest.raises(ValidationError) as error:
        validate_siren("552100555")
    assert error.value.code == "siren"
    assert error.value.messages == [
        "SIREN « 552100555 » invalide : la clé de contrôle (Luhn) ne correspond pas."
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("552100554", "552100554"),
        ("552 100 554", "552100554"),
        (" 552 100 554 ", "552100554"),
        ("552\u00a0100\u00a0554", "552100554"),
        ("\u00a0552100554\u00a0", "552100554"),
        ("552\u202f100\u202f554", "552100554"),  # narrow no-break space (French formatting)
        ("552.100.554", "552100554"),
        ("552100554.0", "552100554"),
        (552100554, "552100554"),
        (552100554.0, "552100554"),
        (None, ""),
        ("", ""),
    ],
)
def test_normalize_siren(raw, expected):
    assert normalize_siren(raw) == expected


def test_normalized_siren_validates():
    assert siren_error(normalize_siren("552\u00a0100 554")) is None
    assert siren_error(normalize_siren(732829320.0)) is None


@pytest.mark.parametrize(
    ("first_eight", "expected"), [("55210055", "552100554"), ("73282932", "732829320")]
)
def test_with_luhn_key_completes_known_sirens(first_eight, expected):
    assert with_luhn_key(first_eight) == expected


@pytest.mark.parametrize("first_eight", ["00000000", "12345678", "99999999", "20004012"])
def test_with_luhn_key_always_gives_a_valid_siren(first_eight):
    siren = with_luhn_key(first_eight)
    assert siren.startswith(first_eight)
    assert len(siren) == 9
    assert siren_error(siren) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "01"),
        (1, "01"),
        ("1.0", "01"),
        (1.0, "01"),
        ("01", "01"),
        ("75", "75"),
        (75, "75"),
        ("2a", "2A"),
        ("2A", "2A"),
        (" 2b ", "2B"),
        ("974", "974"),
        (974.0, "974"),
        (None, ""),
    ],
)
def test_normalize_departement(raw, expected):
    assert normalize_departement(raw) == expected


def test_departements_list():
    assert len(DEPARTEMENTS) == 101
    assert len(set(DEPARTEMENTS)) == 101
    assert "20" not in DEPARTEMENTS
    assert {"01", "2A", "2B", "95", "971", "976"} <= set(DEPARTEMENTS)
    assert "975" not in DEPARTEMENTS


@pytest.mark.parametrize(
    "siren",
    [
        "55210055\u00b2",  # superscript two: str.isdigit() is True but int() refuses it
        "\uff15\uff15\uff12\uff11\uff10\uff10\uff15\uff15\uff14",  # full-width 552100554
        "\u0665\u0665\u0662\u0661\u0660\u0660\u0665\u0665\u0664",  # Arabic-Indic 552100554
    ],
)
def test_non_ascii_digits_are_refused_not_crashing(siren):
    assert siren_error(siren) == (
        f"SIREN « {siren} » invalide : il doit comporter exactement 9 chiffres."
    )
