"""Synthetic demo data at the sizes of the real service (see README "Demo data").

Deterministic: the same seed gives the same organisms, so the ministry platform and each
federation platform share the SIREN of the federation's members.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django_tenants.utils import schema_context

from accounts.models import Role, User
from organisms.models import Membership, Organism, Partner
from organisms.regions import REGIONS, region_of
from organisms.signals import demo_loaded
from organisms.siren import with_luhn_key
from tenants.models import Platform
from tenants.services import GESTIONNAIRES_GROUP

PLACES_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_places.json"
DEMO_PASSWORD = "Harmonia-Demo-2024!"  # noqa: S105 - published demo credential
DEMO_EXERCISE = 2024

# Sizes from the service's own figures.
# 829 bodies; a few coordination companies (SAC) and groups file the ER SAC and ER Groupes
MINISTRY_FAMILIES = {
    "COOP": 167, "ESH": 174, "OPH": 179, "EPL": 109, "MOI": 190, "SAC": 6, "GROUPE": 4,
}  # fmt: skip
FEDERATION_SIZES = {"coop": 164, "esh": 172, "oph": 187, "epl": 112}
FEDERATION_FAMILY = {"coop": "COOP", "esh": "ESH", "oph": "OPH", "epl": "EPL"}
NATIONAL_PARTNERS = [("Caisse des dépôts", "CDC"), ("CGLLS", "CGLLS"), ("ANCOLS", "ANCOLS")]
FEDERATIONS = [
    ("Fédération nationale des OPH", "FEDERATION"),
    ("Fédération des ESH", "FEDERATION"),
    ("Fédération nationale des sociétés coopératives d'HLM", "FEDERATION"),
    ("Fédération des EPL", "FEDERATION"),
]


@dataclass(frozen=True)
class DemoOrganism:
    siren: str
    name: str
    family: str
    departement: str


def _demo_accounting(organism: DemoOrganism, index: int) -> str:
    """An OPH's accounting regime: most in comptabilité publique, a few in comptabilité de
    commerce (their deadlines differ), unknown for one in ten."""
    if organism.family != "OPH" or index % 10 == 9:
        return ""
    return "COMMERCE" if index % 60 == 0 else "PUBLIQUE"


def _load_places() -> dict:
    return json.loads(PLACES_FILE.read_text(encoding="utf-8"))


def demo_organisms(seed: int = 2024) -> dict[str, list[DemoOrganism]]:
    """The organisms of every platform, keyed by platform code."""
    data = _load_places()
    places, patterns = data["places"], data["name_patterns"]
    rng = random.Random(seed)
    used_sirens: set[str] = set()
    used_names: set[str] = set()

    def make(family: str) -> DemoOrganism:
        while True:
            siren = with_luhn_key(f"{rng.randrange(2, 10)}{rng.randrange(10**7):07d}")
            if siren not in used_sirens:
                used_sirens.add(siren)
                break
        place = rng.choice(places)
        base = rng.choice(patterns[family]).format(town=place["town"], dept_name=place["name"])
        name, n = base, 1
        while name in used_names:
            n += 1
            name = f"{base} {n}"
        used_names.add(name)
        return DemoOrganism(siren, name, family, place["departement"])

    ministry = {
        family: [make(family) for _ in range(count)] for family, count in MINISTRY_FAMILIES.items()
    }
    result = {"dhup": [o for family in MINISTRY_FAMILIES for o in ministry[family]]}
    for code, size in FEDERATION_SIZES.items():
        members = ministry[FEDERATION_FAMILY[code]][:size]
        # A federation also gathers a few coordination companies (SAC) of its own.
        members += [make("SAC") for _ in range(size - len(members))]
        result[code] = members
    return result


def _ensure_user(username: str, role: str, code: str, password_hash: str, **extra) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@{code}.harmonia.test",
            "role": role,
            "password": password_hash,
            **extra,
        },
    )
    return user


@transaction.atomic
def load_platform_demo(
    platform: Platform, organisms: list[DemoOrganism], password_hash: str
) -> None:
    with schema_context(platform.schema_name):
        Organism.objects.bulk_create(
            [
                Organism(
                    siren=o.siren,
                    name=o.name,
                    family=o.family,
                    departement=o.departement,
                    accounting=_demo_accounting(o, index),
                )
                for index, o in enumerate(organisms)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        partners = NATIONAL_PARTNERS + (FEDERATIONS if platform.kind == "ministry" else [])
        for name, kind in partners:
            Partner.objects.get_or_create(name=name, defaults={"kind": kind})
        places = _load_places()["places"]
        Partner.objects.bulk_create(
            [
                Partner(
                    name=f"Préfecture — {p['name']} ({p['departement']})",
                    kind="PREFECTURE",
                    departement=p["departement"],
                )
                for p in places
            ],
            ignore_conflicts=True,
        )

        gestionnaire = _ensure_user(
            "gestionnaire",
            Role.GESTIONNAIRE,
            platform.code,
            password_hash,
            first_name="Gaëlle",
            last_name="Gestionnaire",
            is_staff=True,
        )
        gestionnaire.groups.add(Group.objects.get(name=GESTIONNAIRES_GROUP))
        first = Organism.objects.get(siren=organisms[0].siren)
        for index, username in enumerate(("organisme", "organisme2"), start=1):
            user = _ensure_user(
                username,
                Role.ORGANISME,
                platform.code,
                password_hash,
                first_name="Olivier" if index == 1 else "Odile",
                last_name=f"Déclarant {index}",
            )
            Membership.objects.get_or_create(user=user, defaults={"organism": first})
        if platform.kind == "ministry":
            # declarants of the families that file other documents (ER MOI, ER SEM)
            for username, family, first_name in (
                ("organisme-moi", "MOI", "Mathis"),
                ("organisme-epl", "EPL", "Estelle"),
            ):
                organism = Organism.objects.filter(family=family).order_by("name").first()
                if organism is None:
                    continue
                user = _ensure_user(
                    username,
                    Role.ORGANISME,
                    platform.code,
                    password_hash,
                    first_name=first_name,
                    last_name=f"Déclarant {family}",
                )
                Membership.objects.get_or_create(user=user, defaults={"organism": organism})
            # declarants of the first OPH and ESH, the organisms the oph and esh platforms'
            # « organisme » files for: their ER sociaux (demo lists filled) pair with those QDIS
            for username, family, first_name in (
                ("organisme-oph", "OPH", "Ophélie"),
                ("organisme-esh", "ESH", "Eszter"),
            ):
                siren = next((o.siren for o in organisms if o.family == family), None)
                organism = Organism.objects.filter(siren=siren).first()
                if organism is None:
                    continue
                user = _ensure_user(
                    username,
                    Role.ORGANISME,
                    platform.code,
                    password_hash,
                    first_name=first_name,
                    last_name=f"Déclarante {family}",
                )
                Membership.objects.get_or_create(user=user, defaults={"organism": organism})
        cdc = _ensure_user(
            "partenaire-cdc",
            Role.PARTENAIRE,
            platform.code,
            password_hash,
            first_name="Paul",
            last_name="Partenaire",
        )
        Membership.objects.get_or_create(
            user=cdc, defaults={"partner": Partner.objects.get(kind="CDC")}
        )
        prefecture = _ensure_user(
            "partenaire-prefecture",
            Role.PARTENAIRE,
            platform.code,
            password_hash,
            first_name="Pauline",
            last_name="Préfecture",
        )
        Membership.objects.get_or_create(
            user=prefecture,
            defaults={
                "partner": Partner.objects.get(kind="PREFECTURE", departement=first.departement)
            },
        )
        editeur = _ensure_user(
            "editeur",
            Role.EDITEUR,
            platform.code,
            password_hash,
            first_name="Émile",
            last_name="Éditeur",
        )
        if platform.kind == "ministry":
            load_ministry_partners(platform, organisms, password_hash)
        # the apps above add theirs (workflow: the open 2024 campaign)
        demo_loaded.send(
            sender=Platform,
            platform=platform,
            users={"gestionnaire": gestionnaire, "editeur": editeur},
        )


# the federations' partners of the ministry platform and the code their members carry
FEDERATION_CODES = {
    "Fédération nationale des OPH": "oph",
    "Fédération des ESH": "esh",
    "Fédération nationale des sociétés coopératives d'HLM": "coop",
    "Fédération des EPL": "epl",
}


def load_ministry_partners(
    platform: Platform, organisms: list[DemoOrganism], password_hash: str
) -> None:
    """The ministry platform's federations read their members' documents (the organisms the
    federation platforms hold, by SIREN, carry its code); the DREAL of the first organism's
    region and a DDT(M) per département of that region; the account ``partenaire-dreal``.
    Only fills what is empty: a gestionnaire's edits stay."""
    for name, code in FEDERATION_CODES.items():
        Partner.objects.filter(name=name, kind="FEDERATION", federation="").update(federation=code)
    for code, size in FEDERATION_SIZES.items():
        family = [o.siren for o in organisms if o.family == FEDERATION_FAMILY[code]]
        Organism.objects.filter(siren__in=family[:size], federation="").update(federation=code)
    region = region_of(organisms[0].departement)
    if region is None:
        return
    dreal, _ = Partner.objects.get_or_create(
        name=f"DREAL {region}",
        defaults={"kind": "DREAL", "region": region, "departements": list(REGIONS[region])},
    )
    names = {p["departement"]: p["name"] for p in _load_places()["places"]}
    for departement in REGIONS[region]:
        Partner.objects.get_or_create(
            name=f"DDT(M) — {names.get(departement, departement)} ({departement})",
            defaults={"kind": "DDT", "departement": departement},
        )
    user = _ensure_user(
        "partenaire-dreal",
        Role.PARTENAIRE,
        platform.code,
        password_hash,
        first_name="Denis",
        last_name="DREAL",
    )
    Membership.objects.get_or_create(user=user, defaults={"partner": dreal})


@transaction.atomic
def load_public_demo(password_hash: str) -> None:
    with schema_context("public"):
        for username, role, first, last in (
            ("hotline", Role.HOTLINE, "Hugo", "Hotline"),
            ("maintenance", Role.MAINTENANCE, "Mathilde", "Maintenance"),
            ("cglls", Role.CGLLS, "Claire", "CGLLS"),
            ("correspondant", Role.CORRESPONDANT, "Corinne", "Correspondante"),
        ):
            user = _ensure_user(
                username, role, "public", password_hash, first_name=first, last_name=last
            )
        # the apps above add theirs (operations: the correspondent named by CGLLS)
        demo_loaded.send(sender=Platform, platform=None, users={"correspondant": user})


def load_demo() -> dict[str, int]:
    """Idempotent: load what is missing, leave what exists. Returns organisms per platform."""
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: hashing is the slow part
    per_platform = demo_organisms()
    counts = {}
    for platform in Platform.objects.declaration_platforms():
        load_platform_demo(platform, per_platform[platform.code], password_hash)
        with schema_context(platform.schema_name):
            counts[platform.code] = Organism.objects.count()
    load_public_demo(password_hash)
    return counts
