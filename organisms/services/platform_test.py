"""The platform's test organism: where software editors try their imports on the test
platform (``operations.recette`` gives it an account) and where gestionnaires and editors try
a draft form version (its trial dossiers, ``workflow.actions.dossier_trial_open``). Not a real
organism: a SIREN from the top of the range, no registry entry. Created for a trial it stays
inactive, so that no list, reminder or count of organisms expects it to file.
"""

from __future__ import annotations

from organisms.models import Organism
from organisms.siren import with_luhn_key

TEST_ORGANISM_NAME = "Organisme de test des éditeurs de logiciels"
# the first test SIREN tried (then the ones below it): 999 999 99x, not a real organism
TEST_SIREN_STEM = 99_999_999


def platform_test_siren() -> str:
    """The test organism's SIREN: the first of 999 999 99x (then below) not taken by another."""
    stem = TEST_SIREN_STEM
    while True:
        siren = with_luhn_key(f"{stem:08d}")
        existing = Organism.objects.filter(siren=siren).first()
        if existing is None or existing.name == TEST_ORGANISM_NAME:
            return siren
        stem -= 1


def platform_test_organism_ensure(*, family: str | None = None, active: bool = False) -> Organism:
    """The platform's test organism, created if need be. ``active``: it files like an
    organism (the test platform's editors' account); an active one is never made inactive
    here. ``family``: its family, set when given."""
    siren = platform_test_siren()
    organism = Organism.objects.filter(siren=siren).first()
    if organism is None:
        return Organism.objects.create(
            siren=siren,
            name=TEST_ORGANISM_NAME,
            family=family or Organism._meta.get_field("family").choices[0][0],
            departement="75",
            is_active=active,
        )
    changed = []
    if active and not organism.is_active:
        organism.is_active = True
        changed.append("is_active")
    if family and organism.family != family:
        organism.family = family
        changed.append("family")
    if changed:
        organism.save(update_fields=[*changed, "updated_at"])
    return organism
