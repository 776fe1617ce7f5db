"""The read API's typed answers (their field names are French: they are the API's contract with
its users, as the XML format's are). Each becomes a schema of the OpenAPI document. Plain
pydantic models: the answers are built as dicts, validated once by ninja on the way out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class Erreur(BaseModel):
    detail: str = Field(description="Ce qui ne va pas et que faire, en français.")


class Formulaire(BaseModel):
    code: str = Field(examples=["ER_SOCIAUX"])
    libelle: str


class Campagne(BaseModel):
    exercice: int = Field(examples=[2024])
    ouverture: dt.date
    date_limite: dt.date = Field(description="Date limite de transmission de la campagne.")
    formulaires: list[Formulaire]


class Organisme(BaseModel):
    siren: str = Field(examples=["412345678"])
    nom: str
    famille: str = Field(description="Code de la famille (OPH, ESH, COOP, EPL, MOI…).")
    famille_libelle: str


class SousEtape(BaseModel):
    code: str = Field(examples=["4.1"])
    libelle: str


class DossierResume(BaseModel):
    id: int = Field(description="Numéro du dossier sur cette plateforme.")
    formulaire: str
    exercice: int
    organisme: Organisme
    etape: str = Field(
        description=(
            "Code de l'étape : 1, 2, 3 (travail interne à l'organisme), 4 (fiabilisation), "
            "4R (main rendue à l'organisme), 5 (finalisé), 6 (archivé). Pour un partenaire, "
            "l'étape à laquelle le dossier lui a été transmis."
        ),
        examples=["4"],
    )
    etape_libelle: str
    sous_etape: SousEtape | None = None
    ouvert_le: dt.datetime = Field(description="Création du dossier par l'organisme.")
    transmis_le: dt.datetime | None = Field(
        None,
        description=(
            "Dernière transmission par l'organisme ; pour un partenaire, dernier envoi qu'il a "
            "reçu."
        ),
    )
    modifie_le: dt.datetime = Field(
        description=(
            "Dernière modification du dossier ; pour un partenaire, date des valeurs qu'il lit "
            "(son dernier envoi)."
        )
    )
    date_limite: dt.date | None = Field(
        None,
        description="Date limite de transmission de l'organisme (règle, prorogation) ; vide "
        "quand elle reste à préciser, et pour un partenaire.",
    )
    date_limite_regle: str = Field("", description="Ce que suit la date limite, en mots.")
    valeurs_lisibles: bool = Field(
        description=(
            "Vrai quand ce jeton peut lire les valeurs (un gestionnaire, à partir de la "
            "transmission)."
        )
    )


class PageDossiers(BaseModel):
    total: int = Field(description="Nombre de dossiers de la liste entière.")
    limit: int
    offset: int
    dossiers: list[DossierResume]


class DossierValeurs(DossierResume):
    version: int = Field(description="Numéro de la version du formulaire des valeurs.")
    valeurs_transmises: bool = Field(
        description=(
            "Vrai quand les valeurs sont celles d'une transmission (figées) et non le dossier "
            "en cours : un gestionnaire quand la main est rendue à l'organisme, un partenaire "
            "toujours."
        )
    )
    valeurs: dict[str, Any] = Field(
        description=(
            "Valeurs saisies, par nom de champ : nombres, textes, booléens, dates en numéro de "
            "série (tableur). Une liste (tableau à lignes multiples) est une liste de lignes, "
            "chacune un objet {champ de colonne: valeur}."
        )
    )
    calcules: dict[str, Any] = Field(
        description="Valeurs calculées, par nom de champ ; pour une liste, ses colonnes "
        "calculées ligne par ligne."
    )
