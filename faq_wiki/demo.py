"""Demo content of every platform: FAQ, wiki, editors' section, manager page, three manuals,
the three legal pages (as a new platform gets them).

Idempotent: a page that already exists (same slug under the same parent) is left as it is."""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import schema_context

from faq_wiki.models import (
    EditorsIndexPage,
    FaqIndexPage,
    FaqPage,
    ManagerPage,
    ManualPage,
    PlatformHomePage,
    WikiPage,
)
from faq_wiki.services import legal_pages_seed
from tenants.models import Platform
from tenants.platforms import PLATFORMS, PlatformSpec

QDIS_EXPANDED = "questionnaire du dossier individuel de situation (QDIS)"


def expand_qdis(text: str) -> str:
    """The first « QDIS » of a text readers see, spelt out."""
    return text.replace("QDIS", QDIS_EXPANDED, 1)


def _other(spec: PlatformSpec) -> str:
    if spec.kind == "ministry":
        return "la plateforme de votre fédération"
    return "la plateforme du ministère (DHUP)"


def faq_entries(spec: PlatformSpec) -> list[tuple[str, str, str, list[str]]]:
    """(theme, question, answer HTML, audiences) for the platform described by ``spec``."""
    p, other = spec.short_name, _other(spec)
    docs = ", ".join(label for _, label in spec.document_types)
    return [
        (
            "Comptes et connexion",
            "Comment obtenir un compte sur la plateforme ?",
            f"<p>Les comptes de la plateforme {p} sont créés par ses gestionnaires depuis l'écran "
            "« Comptes ». Vous recevez un courriel contenant un lien à usage unique pour choisir "
            "votre mot de passe.</p>",
            [],
        ),
        (
            "Comptes et connexion",
            "Combien de comptes un organisme peut-il avoir ?",
            "<p>Un organisme dispose au plus de trois comptes actifs. Pour en remplacer un, "
            "demandez au gestionnaire de désactiver l'ancien compte.</p>",
            ["organisme"],
        ),
        (
            "Comptes et connexion",
            "J'ai oublié mon mot de passe, que faire ?",
            "<p>Sur la page de connexion, choisissez « Mot de passe oublié » : un lien valable une "
            "heure vous est envoyé. Après cinq essais infructueux, le compte est bloqué trente "
            "minutes.</p>",
            [],
        ),
        (
            "Comptes et connexion",
            "Mon compte fonctionne-t-il sur les autres plateformes ?",
            f"<p>Non. Chaque plateforme a ses propres comptes : votre compte {p} ne donne pas "
            f"accès à {other}.</p>",
            [],
        ),
        (
            "Campagnes",
            "Qu'est-ce qu'une campagne ?",
            f"<p>Une campagne couvre un exercice comptable et les documents collectés par {p} "
            f"({docs}). Elle a une date d'ouverture et une date limite de transmission, affichées "
            "sur la page d'accueil des contenus.</p>",
            [],
        ),
        (
            "Campagnes",
            "Comment suivre l'avancement des dossiers d'une campagne ?",
            "<p>Dans « Campagnes », ouvrez la liste des dossiers d'un document "
            "(/campagnes/&lt;numéro&gt;/dossiers/) : filtres par étape, famille, département, et "
            "déplacement groupé vers une sous-étape de fiabilisation.</p>",
            ["gestionnaire"],
        ),
        (
            "Formulaire en ligne",
            "Comment commencer ma saisie ?",
            "<p>Dans « Dossiers » (/declarations/), cliquez sur « Commencer » en face du document. "
            "Le formulaire s'affiche feuille par feuille, comme dans le support Excel.</p>",
            ["organisme"],
        ),
        (
            "Formulaire en ligne",
            "Mes saisies sont-elles enregistrées automatiquement ?",
            "<p>Oui, chaque cellule est enregistrée dès que vous la quittez, et les totaux sont "
            "recalculés. Si quelqu'un a modifié la même cellule entre-temps, un message vous "
            "propose de recharger la valeur.</p>",
            ["organisme"],
        ),
        (
            "Formulaire en ligne",
            "Quel format utiliser pour les montants et les dates ?",
            "<p>Saisissez les nombres au format français (1 234,56) et les dates au format "
            "jj/mm/aaaa. Les cellules grisées sont calculées et ne se saisissent pas.</p>",
            [],
        ),
        (
            "Import XML",
            "Puis-je importer mes données depuis mon logiciel ?",
            "<p>Oui : « Importer ou exporter (XML, support Excel) » sur la page du dossier. Le "
            "fichier XML doit respecter le schéma (XSD) de la version du formulaire ; le support "
            "Excel rempli doit être celui de ce formulaire, sans macros ni formules saisies dans "
            "les cellules de saisie. Un fichier refusé ne modifie aucune valeur et la liste des "
            "erreurs s'affiche.</p>",
            ["organisme", "editeur"],
        ),
        (
            "Import XML",
            "Où trouver le schéma XSD et le fichier de spécification ?",
            "<p>Dans l'espace des éditeurs, chaque version de formulaire est listée avec son "
            "support Excel, son fichier de spécification, son schéma XSD et la liste des "
            "changements depuis la version précédente.</p>",
            ["editeur", "organisme"],
        ),
        (
            "Contrôles",
            "À quoi sert « Lancer la vérification » ?",
            "<p>La vérification exécute les contrôles de cohérence définis par le gestionnaire : "
            "les erreurs bloquent la validation, les avertissements demandent seulement votre "
            "attention. Chaque anomalie renvoie à la cellule concernée.</p>",
            [],
        ),
        (
            "Transmission",
            "Comment transmettre mon dossier ?",
            "<p>Après une vérification sans erreur, cliquez sur « Valider la saisie » puis sur "
            "« Transmettre ». Le dossier passe à l'étape 4 (fiabilisation) et un PDF et un XML de "
            "la transmission sont conservés.</p>",
            ["organisme"],
        ),
        (
            "Transmission",
            "Puis-je modifier un dossier transmis ?",
            "<p>Non, sauf si le gestionnaire vous « rend la main » : le dossier revient alors en "
            "saisie, et vous le transmettez à nouveau avec « Transmettre à nouveau ».</p>",
            ["organisme"],
        ),
        (
            "Restitution",
            "Que signifie « Main rendue à l'organisme » ?",
            "<p>Le gestionnaire a demandé une correction pendant la fiabilisation. Le motif figure "
            "dans l'espace d'échange du dossier. Corrigez, vérifiez, puis transmettez à "
            "nouveau.</p>",
            [],
        ),
        (
            "Tronc commun",
            "À quoi sert « Rapatrier le tronc commun » ?",
            f"<p>Les champs du tronc commun sont identiques sur {p} et sur {other}. Le bouton "
            "« Rapatrier le tronc commun » affiche les valeurs de l'autre plateforme, champ par "
            "champ, et vous choisissez celles à reprendre.</p>",
            ["organisme"],
        ),
        (
            "PDF",
            "Comment obtenir le PDF de mon dossier ?",
            "<p>Sur la page du dossier, « Télécharger en PDF » prépare le document en "
            "arrière-plan ; un lien apparaît quand il est prêt. Les PDF des transmissions "
            "restent disponibles dans « Documents transmis ».</p>",
            [],
        ),
        (
            "Partenaires",
            "Quels partenaires reçoivent mes données ?",
            "<p>Certains partenaires sont imposés par le ministère, d'autres sont à votre choix "
            "dans « Partenaires destinataires » (/partenaires/). La transmission est automatique "
            "aux étapes prévues.</p>",
            ["organisme", "partenaire"],
        ),
        (
            "Partenaires",
            "Je suis partenaire : que puis-je consulter ?",
            "<p>Uniquement les documents transmis à votre organisation, depuis « Documents "
            "transmis ». Chaque consultation est enregistrée.</p>",
            ["partenaire"],
        ),
        (
            "Espace d'échange",
            "Comment échanger avec le gestionnaire sur mon dossier ?",
            "<p>Chaque dossier a un espace d'échange (lien « Espace d'échange » sur la page du "
            "dossier) : messages et pièces jointes, visibles seulement par votre organisme et "
            "les gestionnaires.</p>",
            ["organisme", "gestionnaire"],
        ),
        (
            "Espace d'échange",
            "Où voir tous les messages reçus ?",
            "<p>Les gestionnaires retrouvent tous les échanges de la plateforme dans « Échanges » "
            "(/echanges/), avec le nombre de messages non lus par dossier.</p>",
            ["gestionnaire"],
        ),
    ]


def manuals(spec: PlatformSpec) -> list[tuple[str, str, str, list[str], list[tuple[str, str]]]]:
    """(slug, title, reader, audiences, chapters) of the three manuals."""
    p, other = spec.short_name, _other(spec)
    docs = "".join(f"<li>{label}</li>" for _, label in spec.document_types)
    organismes = [
        (
            "Se connecter",
            f"<p>Ouvrez l'adresse de la plateforme {p} et saisissez l'identifiant et le mot de "
            "passe choisis grâce au lien reçu par courriel. La session se ferme après trente "
            "minutes d'inactivité.</p>",
        ),
        (
            "La liste de vos dossiers",
            f"<p>Le menu « Dossiers » (/declarations/) présente, pour chaque campagne ouverte, les "
            f"documents à déclarer :</p><ul>{docs}</ul><p>« Commencer » crée le dossier, "
            "« Reprendre » le rouvre.</p>",
        ),
        (
            "Saisir dans la grille",
            "<p>Le formulaire reproduit les feuilles du support Excel : un onglet par feuille, les "
            "cellules de saisie en blanc, les cellules calculées en gris. Chaque valeur est "
            "enregistrée en quittant la cellule ; les totaux sont recalculés aussitôt.</p>"
            "<p>Un bloc de cellules copié dans Excel se colle (Ctrl+V) dans une cellule de "
            "saisie : il remplit la feuille vers la droite et vers le bas et s'enregistre en une "
            "fois. Les cellules calculées sont ignorées ; une valeur refusée est signalée avec "
            "sa cellule, les autres sont enregistrées. Le compte rendu s'affiche au-dessus de "
            "la grille.</p>",
        ),
        (
            "Importer ou exporter en XML",
            "<p>Le lien « Importer ou exporter (XML, support Excel) » ouvre l'écran d'import : "
            "choisissez le fichier produit par votre logiciel. Un fichier non conforme au XSD est "
            "refusé en entier, avec la liste des erreurs. « Exporter le dossier en XML » produit "
            "le même format.</p><p>« Télécharger le support Excel rempli » (page du dossier ou "
            "écran d'import) donne le classeur du formulaire avec vos valeurs et toutes les "
            "lignes de vos tableaux ; ses formules recalculent les champs calculés. Complétez-le "
            "dans Excel ou LibreOffice, puis importez-le sur le même écran : chaque cellule de "
            "saisie remplace la valeur du champ (une cellule vide l'efface), chaque tableau "
            "remplace ses lignes ; les champs calculés ne sont pas importés mais comparés au "
            "recalcul. Ne renommez ni les feuilles ni les noms, ne modifiez pas les formules, "
            "enregistrez au format .xlsx (sans macros) : sinon le classeur est refusé, chaque "
            "cellule en cause étant indiquée.</p>",
        ),
        (
            "Rapatrier le tronc commun",
            f"<p>« Rapatrier le tronc commun » compare vos champs communs avec ceux déclarés sur "
            f"{other}. Cochez les valeurs à reprendre puis confirmez.</p>",
        ),
        (
            "Vérifier, valider, transmettre",
            "<p>« Lancer la vérification » liste les erreurs et avertissements. Sans erreur, les "
            "boutons d'étape apparaissent : « Valider la saisie » puis « Transmettre ». Après une "
            "main rendue, utilisez « Transmettre à nouveau ».</p>",
        ),
        (
            "PDF, partenaires et espace d'échange",
            "<p>« Télécharger en PDF » prépare le PDF du dossier. « Partenaires destinataires » "
            "(/partenaires/) permet de choisir les partenaires non imposés. L'espace d'échange du "
            "dossier sert à dialoguer avec le gestionnaire.</p>",
        ),
    ]
    gestion = [
        (
            "Ouvrir une campagne",
            "<p>Dans « Campagnes », « Ouvrir une campagne » fixe l'exercice, les documents "
            "collectés, la date d'ouverture et la date limite de transmission.</p>",
        ),
        (
            "Déposer les formulaires",
            "<p>« Formulaires » (/formulaires/) liste les versions ; « Déposer » accepte un "
            "support Excel. Le dépôt crée les champs, les feuilles, le fichier de spécification "
            "et le schéma XSD, publiés automatiquement dans l'espace des éditeurs.</p>",
        ),
        (
            "Suivre les dossiers",
            "<p>La liste des dossiers d'une campagne (/campagnes/&lt;numéro&gt;/dossiers/) se "
            "filtre par étape, sous-étape, famille et département ; les dossiers cochés se "
            "déplacent d'une sous-étape de fiabilisation à l'autre.</p>",
        ),
        (
            "Fiabiliser, rendre la main, finaliser",
            "<p>À l'étape 4, ouvrez le dossier : « Rendre la main à l'organisme » le renvoie en "
            "saisie (expliquez pourquoi dans l'espace d'échange), « Finaliser » le clôt.</p>",
        ),
        (
            "Comptes, partenaires et échanges",
            "<p>« Comptes » crée et désactive les comptes ; « Partenaires » définit les règles de "
            "transmission ; « Échanges » (/echanges/) regroupe les messages des dossiers.</p>",
        ),
        (
            "Administrer les contenus",
            "<p>« Administration des contenus » (/cms/) ouvre Wagtail : FAQ, wiki et manuels s'y "
            "rédigent en brouillon, se prévisualisent, se publient ou se programment.</p>",
        ),
    ]
    partenaires = [
        (
            "Votre accès",
            f"<p>Votre compte partenaire sur {p} est créé par un gestionnaire. Vous ne voyez que "
            "les documents transmis à votre organisation.</p>",
        ),
        (
            "Consulter les documents transmis",
            "<p>« Documents transmis » (/partenaires/) liste les transmissions reçues : PDF, XML "
            "et valeurs figées au moment de la transmission.</p>",
        ),
        (
            "Traçabilité",
            "<p>Chaque consultation est enregistrée dans le journal d'accès tenu par les "
            "gestionnaires.</p>",
        ),
    ]
    return [
        ("manuel-organismes", "Manuel des organismes", "organismes", ["organisme"], organismes),
        (
            "manuel-ministere-federations",
            "Manuel du ministère et des fédérations",
            "ministere_federations",
            ["gestionnaire"],
            gestion,
        ),
        (
            "manuel-partenaires",
            "Manuel des partenaires",
            "partenaires",
            ["partenaire"],
            partenaires,
        ),
    ]


def _child(parent, model, slug: str, **fields):
    """The child page ``slug`` of ``parent``, created and published when missing."""
    existing = parent.get_children().filter(slug=slug).first()
    if existing is not None:
        return existing.specific
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return model.objects.get(pk=page.pk)


def demo_content_for(spec: PlatformSpec) -> None:
    """Inside the current platform schema."""
    home = PlatformHomePage.objects.get()
    legal_pages_seed(platform=Platform.objects.get(code=spec.code))
    faq = _child(
        home,
        FaqIndexPage,
        "faq",
        title="Foire aux questions",
        intro=f"<p>Les questions les plus fréquentes sur la plateforme {spec.short_name}.</p>",
    )
    for position, (theme, question, answer, audiences) in enumerate(faq_entries(spec), 1):
        _child(
            faq,
            FaqPage,
            f"question-{position}",
            title=question,
            answer=answer,
            theme=theme,
            audiences=audiences,
        )
    wiki = _child(
        home,
        WikiPage,
        "informations-generales",
        title="Informations générales",
        intro=f"Ce que collecte la plateforme {spec.short_name} et comment.",
        body=[
            ("text", f"<p>La plateforme collecte : {expand_qdis(spec.collects)}.</p>"),
            (
                "callout",
                {
                    "level": "important",
                    "title": "Date limite",
                    "text": "<p>La date limite de la campagne figure sur l'accueil.</p>",
                },
            ),
            (
                "table",
                {
                    "first_row_is_table_header": True,
                    "first_col_is_header": False,
                    "data": [
                        ["Étape", "Qui agit"],
                        ["1 à 3 — saisie", "Organisme"],
                        ["4 — fiabilisation", "Gestionnaire"],
                        ["5 — finalisé", "Gestionnaire"],
                    ],
                },
            ),
        ],
    )
    _child(
        wiki,
        WikiPage,
        "calendrier",
        title="Calendrier de la campagne",
        body=[
            (
                "text",
                "<p>Ouverture au printemps, transmission avant la date limite, "
                "fiabilisation pendant l'été.</p>",
            )
        ],
    )
    editors = _child(
        home,
        EditorsIndexPage,
        "editeurs",
        title="Espace des éditeurs de logiciel",
        intro="<p>Les supports Excel, fichiers de spécification et schémas XSD de chaque "
        "version de formulaire, mis à jour à chaque dépôt.</p>",
    )
    _child(
        editors,
        WikiPage,
        "informations-editeurs",
        title="Informations pour les éditeurs",
        audiences=["editeur", "organisme"],
        body=[
            (
                "text",
                "<p>Le format XML harmonisé est décrit dans le guide « Format XML "
                "harmonisé ». L'API (/api/v1/) accepte les jetons créés par les "
                "organismes.</p>",
            ),
            (
                "callout",
                {
                    "level": "warning",
                    "title": "Changement de version",
                    "text": "<p>Consultez la liste des changements avant de "
                    "mettre à jour votre export.</p>",
                },
            ),
        ],
    )
    _child(
        home,
        ManagerPage,
        "supports-gestionnaire",
        title=f"Supports de {spec.short_name}",
        body=f"<p>Les supports Excel des documents collectés par {spec.short_name}.</p>",
    )
    for slug, title, reader, audiences, chapters in manuals(spec):
        _child(
            home,
            ManualPage,
            slug,
            title=title,
            reader=reader,
            audiences=audiences,
            chapters=[("chapter", {"heading": h, "body": b}) for h, b in chapters],
        )


def demo_content() -> None:
    for spec in PLATFORMS:
        with schema_context(spec.code), transaction.atomic():
            demo_content_for(spec)
