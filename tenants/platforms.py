"""The five Harmonia platforms, as code: one place that names them.

``platforms_sync`` makes the database agree with this list; nothing else creates platforms.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_SCHEMA = "public"
TEMPLATE_SCHEMA = "platform_template"


@dataclass(frozen=True)
class PlatformSpec:
    code: str
    name: str
    short_name: str
    kind: str  # "ministry" or "federation"
    collects: str
    family: str = ""  # the organism family a federation gathers
    document_types: tuple[tuple[str, str], ...] = ()  # (code, label) collected here
    # who must file each document, where not every organism of the platform: (code, families);
    # a gestionnaire may change it afterwards (forms_cms document types screen)
    filers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # deadline rules where not the campaign's date (workflow.deadlines): (document, family,
    # OPH accounting regime or "", kind, fixed day « jj/mm » or "", days, capped at the
    # campaign's date); seeded while the platform has none, the gestionnaires' afterwards
    deadlines: tuple[tuple[str, str, str, str, str, int, bool], ...] = ()


PLATFORMS: tuple[PlatformSpec, ...] = (
    PlatformSpec(
        code="dhup",
        name="Harmonia — Ministère chargé du logement (DHUP)",
        short_name="Ministère (DHUP)",
        kind="ministry",
        collects="États réglementaires (ER)",
        document_types=(
            ("ER_SOCIAUX", "États réglementaires — comptes sociaux"),
            ("ER_SAC", "États réglementaires — sociétés de coordination (SAC)"),
            ("ER_GROUPES", "États réglementaires — comptes de groupe"),
            ("ER_MOI", "États réglementaires — maîtrise d'ouvrage d'insertion"),
            ("ER_SEM", "États réglementaires — sociétés d'économie mixte (SEM)"),
        ),
        filers=(
            ("ER_SOCIAUX", ("OPH", "ESH", "COOP")),
            ("ER_SAC", ("SAC",)),
            ("ER_GROUPES", ("GROUPE",)),
            ("ER_MOI", ("MOI",)),
            ("ER_SEM", ("EPL",)),
        ),
        deadlines=(
            # OPH in comptabilité publique: accounts approved by 30 June, sent within 15 days
            ("ER_SOCIAUX", "OPH", "PUBLIQUE", "after_approval", "", 15, False),
            ("ER_SOCIAUX", "OPH", "COMMERCE", "fixed", "15/07", 0, False),
            # CCH R*423-78 and R.481-14: within the month following the general assembly, and
            # at the latest on the campaign's date (the federations' yearly letter)
            ("ER_SOCIAUX", "ESH", "", "month_after_assembly", "", 0, True),
            ("ER_SOCIAUX", "COOP", "", "month_after_assembly", "", 0, True),
            ("ER_SEM", "EPL", "", "month_after_assembly", "", 0, True),
        ),
    ),
    PlatformSpec(
        code="oph",
        name="Harmonia — Fédération des OPH",
        short_name="Fédération des OPH",
        kind="federation",
        collects=(
            "Questionnaire du dossier individuel de situation (QDIS OPH) et enquêtes fédérales"
        ),
        family="OPH",
        document_types=(
            ("QDIS_OPH", "Questionnaire du dossier individuel de situation (QDIS OPH)"),
            ("ENQUETE_OPH", "Enquête fédérale"),
        ),
    ),
    PlatformSpec(
        code="esh",
        name="Harmonia — Fédération des ESH",
        short_name="Fédération des ESH",
        kind="federation",
        collects=(
            "Questionnaire du dossier individuel de situation (QDIS ESH) et enquêtes fédérales"
        ),
        family="ESH",
        document_types=(
            ("QDIS_ESH", "Questionnaire du dossier individuel de situation (QDIS ESH)"),
            ("ENQUETE_ESH", "Enquête fédérale"),
        ),
    ),
    PlatformSpec(
        code="coop",
        name="Harmonia — Fédération des coopératives HLM",
        short_name="Fédération des coopératives HLM",
        kind="federation",
        collects=(
            "Questionnaire du dossier individuel de situation (QDIS COOP) et enquêtes fédérales"
        ),
        family="COOP",
        document_types=(
            ("QDIS_COOP", "Questionnaire du dossier individuel de situation (QDIS COOP)"),
            # the federation's three yearly surveys, filed by every member (no filers: all)
            ("ENQUETE_ACTIVITE", "Enquête activité"),
            ("ENQUETE_EFFECTIF", "Enquête effectif"),
            ("ENQUETE_SOCIETARIAT", "Enquête sociétariat"),
        ),
    ),
    PlatformSpec(
        code="epl",
        name="Harmonia — Fédération des EPL",
        short_name="Fédération des EPL",
        kind="federation",
        collects=(
            "Questionnaire du dossier individuel de situation (QDIS SEM) et enquêtes fédérales"
        ),
        family="EPL",
        document_types=(
            ("QDIS_SEM", "Questionnaire du dossier individuel de situation (QDIS SEM)"),
            ("ENQUETE_EPL", "Enquête fédérale"),
        ),
    ),
)

PLATFORM_CODES = tuple(spec.code for spec in PLATFORMS)


def platform_spec(code: str) -> PlatformSpec:
    for spec in PLATFORMS:
        if spec.code == code:
            return spec
    raise KeyError(code)
