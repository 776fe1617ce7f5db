"""Demo dossiers with filled multivalued lists (``manage.py demo_dossiers``, after demo_forms).

On the ministry platform the demo declarants of a coopérative, an OPH and an ESH (« organisme »,
« organisme-oph », « organisme-esh ») open their ER sociaux and enter rows in its lists —
filiales, participations, other exceptional charges and products, board members, shareholders
(an OPH, a public body, has none) — through the write gate, as a declarant's save does: the
computed values (calculated columns, totals, the compte de résultat lines they feed) are the
platform's recomputation. On the EPL platform « organisme » enters its SEM's shareholders in
the QDIS SEM. The federations' QDIS of the same organisms are left for « rapatrier » (their
tronc commun lists come from the ER sociaux).

Stored values as the platform stores them: numbers as floats, dates as Excel serial numbers,
text as text. Idempotent: a dossier that already holds one of these lists is left as it is.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from functools import cache

from django_tenants.utils import schema_context

from accounts.models import User
from declarations.services import NoFormVersion, dossier_open, dossier_values_apply
from forms_cms.engine import date_to_serial
from forms_cms.fields import version_tables
from forms_cms.models import DocumentType
from organisms.demo import DEMO_EXERCISE, PLACES_FILE
from workflow.models import Campaign, ValueChange

# platform → (declarant, document type) whose dossier gets demo rows
DEMO_DOSSIERS = {
    "dhup": [
        ("organisme", "ER_SOCIAUX"),
        ("organisme-oph", "ER_SOCIAUX"),
        ("organisme-esh", "ER_SOCIAUX"),
    ],
    "epl": [("organisme", "QDIS_SEM")],
}

_SURNAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Roux", "Fournier", "Girard",
]  # fmt: skip
_WOMEN = ["Anne", "Claire", "Sophie", "Nathalie", "Isabelle", "Camille", "Léa", "Françoise"]
_MEN = ["Jean", "Pierre", "Michel", "Philippe", "Nicolas", "Laurent", "Karim", "Thierry"]
_COLLEGES = {"Représentant des locataires": "Locataires", "Représentant du personnel": "Salariés"}


@cache
def _towns() -> dict[str, str]:
    places = json.loads(PLACES_FILE.read_text(encoding="utf-8"))["places"]
    return {place["departement"]: place["town"] for place in places}


def _serial(year: int, month: int, day: int) -> float:
    return float(date_to_serial(dt.date(year, month, day)))


def _amount(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def _participations(rng: random.Random, prefix: str, town: str, rows: list) -> list[dict]:
    out = []
    for name, form, share in rows:
        capital = float(rng.choice([1_000, 15_000, 37_000, 150_000, 1_500_000]))
        gross = round(capital * share, 2)
        out.append(
            {
                f"{prefix}_RAISON_SOCIALE": name.format(town=town),
                f"{prefix}_SIREN": f"{rng.randrange(3, 9)}{rng.randrange(10**8):08d}",
                f"{prefix}_FORME_JURIDIQUE": form,
                f"{prefix}_CAPITAL": capital,
                f"{prefix}_CAPITAUX_PROPRES": _amount(rng, 20_000, 900_000),
                f"{prefix}_POURCENTAGE": share,
                f"{prefix}_VALEUR_BRUTE": gross,
                f"{prefix}_VALEUR_NETTE": gross if rng.random() < 0.7 else round(gross * 0.8, 2),
                f"{prefix}_PRETS": _amount(rng, 0, 250_000),
                f"{prefix}_CAUTIONS": float(rng.choice([0, 120_000, 450_000, 1_200_000])),
                f"{prefix}_CHIFFRE_AFFAIRES": _amount(rng, 50_000, 3_000_000),
                f"{prefix}_RESULTAT": _amount(rng, -40_000, 180_000),
                f"{prefix}_DIVIDENDES": float(rng.choice([0, 0, 2_500, 12_000])),
                f"{prefix}_DATE_CLOTURE": _serial(DEMO_EXERCISE, 12, 31),
            }
        )
    return out


def _board(rng: random.Random, family: str) -> list[dict]:
    qualities = ["Président", "Vice-président"] + ["Administrateur"] * 5
    qualities += ["Représentant des locataires"] * 2 + ["Représentant du personnel"]
    college = "Collectivité de rattachement" if family == "OPH" else "Actionnaire de référence"
    rows = []
    for i, quality in enumerate(qualities):
        woman = i % 2 == 0
        start = _serial(rng.choice([2019, 2020, 2021, 2023]), rng.randint(1, 12), 15)
        row = {
            "ADM_CIVILITE": "Mme" if woman else "M.",
            "ADM_NOM": _SURNAMES[(i * 7 + rng.randrange(len(_SURNAMES))) % len(_SURNAMES)],
            "ADM_PRENOM": rng.choice(_WOMEN if woman else _MEN),
            "ADM_QUALITE": quality,
            "ADM_COLLEGE": _COLLEGES.get(quality, college if i < 4 else "Personnalité qualifiée"),
            "ADM_DATE_NOMINATION": start,
            "ADM_SEANCES": float(rng.randint(3, 6)),
        }
        if i != 3:  # one member's mandate has no end date entered
            row["ADM_DATE_FIN"] = start + 365.0 * rng.choice([4, 6])
        rows.append(row)
    return rows


def _exceptional(rng: random.Random) -> list[dict]:
    items = [
        ("Pénalités de retard sur marché de travaux", "6712", "charges"),
        ("Dégrèvement de taxe foncière (travaux d'économie d'énergie)", "7718", "produits"),
        ("Indemnité d'assurance - sinistre dégât des eaux", "778", "produits"),
        ("Charges locatives prescrites non récupérées", "6718", "charges"),
        ("Régularisation de TVA sur exercices antérieurs", "672", "charges"),
    ]
    rows = []
    for nature, account, side in items[: rng.randint(3, 5)]:
        row = {
            "EXC_NATURE": nature,
            "EXC_COMPTE": account,
            "EXC_DATE": _serial(DEMO_EXERCISE, rng.randint(1, 12), rng.randint(1, 28)),
        }
        row["EXC_CHARGES" if side == "charges" else "EXC_PRODUITS"] = _amount(rng, 800, 60_000)
        rows.append(row)
    return rows


def _shareholders(rng: random.Random, family: str, town: str) -> list[dict]:
    if family == "COOP":
        holders = [
            (f"Commune de {town}", "Collectivité territoriale", 4_000),
            ("Locataires-coopérateurs (collège)", "Locataire", 1_250),
            ("Salariés de la coopérative (collège)", "Salarié", 320),
            ("Crédit coopératif", "Établissement de crédit", 900),
        ]
    elif family == "SEM":
        holders = [
            (f"Ville de {town}", "Collectivité territoriale", 52_000),
            ("Département", "Collectivité territoriale", 14_000),
            ("Caisse des dépôts et consignations", "Caisse des dépôts", 21_000),
            ("Caisse d'épargne", "Établissement de crédit", 8_000),
            ("Chambre de commerce et d'industrie", "Autre personne morale", 5_000),
        ]
    else:  # an ESH: Action Logement as the reference shareholder
        holders = [
            ("Action Logement Immobilier", "Action Logement", 61_000),
            (f"Communauté d'agglomération de {town}", "Collectivité territoriale", 9_500),
            ("Caisse d'épargne", "Établissement de crédit", 4_200),
            ("Représentants des locataires", "Locataire", 30),
        ]
    return [
        {
            "ACT_NOM": name,
            "ACT_CATEGORIE": category,
            "ACT_ACTIONS": float(shares),
            "ACT_VOIX": float(shares),
            "ACT_DATE_ENTREE": _serial(rng.randint(1995, 2022), rng.randint(1, 12), 1),
        }
        for name, category, shares in holders
    ]


def demo_rows(organism) -> dict[str, list[dict]]:
    """Rows of every list for this organism (deterministic: seeded by its SIREN)."""
    rng = random.Random(organism.siren)  # noqa: S311 - demo data, not secrets
    town = _towns().get(organism.departement, "Lyon")  # the prefecture of its département
    family = organism.family
    rows = {
        "FILIALES": _participations(
            rng,
            "FIL",
            town,
            [("SCI {town} Patrimoine", "SCI", 0.99), ("SCCV Les Jardins de {town}", "SCCV", 0.6)],
        ),
        "PARTICIPATIONS": _participations(
            rng,
            "PAR",
            town,
            [
                ("SAC Habitat Réuni {town}", "SA", 0.18),
                ("Foncière solidaire {town}", "SAS", 0.25),
                ("Coopérative de vente HLM", "Coopérative HLM", 0.12),
            ],
        ),
        "TC_EXCEPTIONNELS": _exceptional(rng),
        "TC_ADMINISTRATEURS": _board(rng, family),
    }
    if family != "OPH":  # an OPH is a public body: no shareholders
        rows["ACTIONNAIRES"] = _shareholders(rng, "SEM" if family == "EPL" else family, town)
    return rows


def load_demo_dossiers(*, exercise: int = DEMO_EXERCISE) -> dict[str, list[str]]:
    """Fill the demo dossiers' lists where they are empty; returns the organisms filled."""
    filled: dict[str, list[str]] = {}
    for code, dossiers in DEMO_DOSSIERS.items():
        with schema_context(code):
            campaign = Campaign.objects.filter(exercise=exercise).first()
            if campaign is None:
                continue
            for username, type_code in dossiers:
                users = User.objects.select_related("membership__organism")
                user = users.filter(username=username).first()
                document_type = DocumentType.objects.filter(code=type_code).first()
                membership = getattr(user, "membership", None)
                if document_type is None or membership is None or membership.organism is None:
                    continue
                try:
                    dossier = dossier_open(
                        organism=membership.organism,
                        campaign=campaign,
                        document_type=document_type,
                        acting_user=user,
                    )
                except NoFormVersion:
                    continue
                tables = version_tables(dossier.form_version)
                rows = {
                    name: table_rows
                    for name, table_rows in demo_rows(membership.organism).items()
                    if name in tables
                    and name not in dossier.values
                    # a federation's QDIS: its own lists (its tronc commun ones: « rapatrier »)
                    and (code == "dhup" or not tables[name].common)
                }
                if not rows:
                    continue
                for name, table_rows in rows.items():
                    inputs = {c.name for c in tables[name].columns if not c.computed}
                    for row in table_rows:
                        unknown = set(row) - inputs
                        if unknown:
                            raise ValueError(f"{name}: no input column {sorted(unknown)}")
                dossier_values_apply(
                    dossier=dossier,
                    values=rows,
                    acting_user=user,
                    source=ValueChange.Source.MANUAL,
                )
                filled.setdefault(code, []).append(membership.organism.name)
    return filled
