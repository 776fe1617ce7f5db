"""French typography every app shares (project level, below all apps): the thousands
separator, grouping, and counts in the singular or the plural."""

from __future__ import annotations

NNBSP = "\u202f"  # the thousands separator, everywhere on the platform (site/formats/fr too)


def group_thousands(digits: str) -> str:
    """« 1 234 567 » from "1234567" (a sign or decimals are the caller's)."""
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return NNBSP.join(out)


def counted(count: int, one: str, many: str) -> str:
    """« 1 dossier », « 0 dossier », « 1 234 dossiers »: French takes the singular below two."""
    return f"{group_thousands(str(count))} {one if abs(count) < 2 else many}"
