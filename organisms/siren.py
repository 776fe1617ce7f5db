"""SIREN numbers and French départements: pure functions, no Django."""

from __future__ import annotations


def normalize_siren(value: object) -> str:
    """Strip spaces and dots people type inside a SIREN ("552 100 554")."""
    text = str(value if value is not None else "").strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number cell read from a spreadsheet
        text = text[:-2]
    # Any whitespace: spaces, no-break spaces, and the narrow no-break space (U+202F) that
    # French number formatting puts between digit groups.
    return "".join(text.split()).replace(".", "")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def siren_error(siren: str) -> str | None:
    """The reason a SIREN is invalid, in French, or None when it is valid."""
    if not siren:
        return "SIREN manquant."
    # isascii(): str.isdigit() also accepts "²" (which int() refuses) and full-width digits.
    if len(siren) != 9 or not (siren.isascii() and siren.isdigit()):
        return f"SIREN « {siren} » invalide : il doit comporter exactement 9 chiffres."
    if not luhn_ok(siren):
        return f"SIREN « {siren} » invalide : la clé de contrôle (Luhn) ne correspond pas."
    return None


def with_luhn_key(first_eight: str) -> str:
    """Complete eight digits into a valid SIREN (used by the demo data)."""
    for key in "0123456789":
        if luhn_ok(first_eight + key):
            return first_eight + key
    raise AssertionError("unreachable: one key digit always fits")


DEPARTEMENTS: tuple[str, ...] = (
    *(f"{n:02d}" for n in range(1, 20)),
    "2A",
    "2B",
    *(f"{n:02d}" for n in range(21, 96)),
    "971",
    "972",
    "973",
    "974",
    "976",
)


def normalize_departement(value: object) -> str:
    text = str(value if value is not None else "").strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and len(text) == 1:
        text = f"0{text}"
    return text
