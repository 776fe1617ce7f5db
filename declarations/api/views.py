"""HTTP API for software editors: import and export a dossier in the harmonised XML format.

Authentication: ``Authorization: Bearer <jeton>`` (a token created by an organisme user of this
platform, in "Jetons d'accès API"). A token works only on its platform and only for its
organism's dossiers. Their OpenAPI description (``OPENAPI`` below) is served within the
platform's one document at ``/api/v1/openapi.json``, by the ``api`` app.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from declarations.models import ApiToken
from declarations.services import NoFormVersion, dossier_open
from declarations.services.imports import (
    dossier_import_xml,
    dossier_validate_xml,
    import_root,
    version_blank_dossier,
    version_validate_xml,
)
from forms_cms.models import DocumentType
from forms_cms.selectors import current_version, versions_visible_to
from forms_cms.workbook.xsd import MAX_XML_BYTES
from forms_cms.xmlformat import ImportReport, XmlImportRefused, dossier_xml
from workflow.actions import MSG_NO_VERSION as MSG_NO_VERSION_YET
from workflow.models import Campaign, Dossier
from workflow.policy import DossierPolicy

MSG_NO_TOKEN = "Jeton d'accès absent, invalide ou révoqué (en-tête Authorization: Bearer <jeton>)."  # noqa: S105


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def token_required(view=None, *, editors: bool = False):
    """An organisme user's token (``editors``: or a software editor's, for the check without
    saving, which needs no organism)."""
    if view is None:
        return lambda view: token_required(view, editors=editors)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        token = (
            ApiToken.authenticate(key.strip()) if scheme.lower() in ("bearer", "token") else None
        )
        if token is None:
            response = _error(401, MSG_NO_TOKEN)
            response["WWW-Authenticate"] = 'Bearer realm="harmonia"'
            return response
        user = token.user
        if editors and user.role == Role.EDITEUR:
            request.api_user, request.api_organism = user, None
            return view(request, *args, **kwargs)
        membership = getattr(user, "membership", None)
        if user.role != Role.ORGANISME or membership is None or membership.organism is None:
            return _error(403, "Ce jeton n'est pas celui d'un organisme.")
        request.api_user = user
        request.api_organism = membership.organism
        return view(request, *args, **kwargs)

    return wrapped


def _report_json(report: ImportReport) -> dict:
    return {
        "applique": [{"champ": n, "avant": old, "apres": new} for n, old, new in report.applied],
        "inchange": report.unchanged,
        "inconnu": [{"champ": n, "motif": r} for n, r in report.unknown],
        "invalide": [{"champ": n, "motif": r} for n, r in report.invalid],
        "calcule_ignore": report.computed_ignored,
        "calcule_different": [
            {"champ": n, "fichier": f, "recalcule": c} for n, f, c in report.computed_differences
        ],
        "erreurs": report.errors,
        "controles_bloquants_en_echec": report.blocking_failures,
        "avertissements": report.warnings,
    }


MSG_TOO_BIG = (
    "Le fichier dépasse {mb} Mo, la taille maximale d'un import XML : scindez la déclaration "
    "ou retirez les espaces superflus."
)


def _body(request) -> bytes | None:
    """The request body up to the documented import limit (``MAX_XML_BYTES``), or None when
    larger. Read from the stream, not ``request.body``: that one stops at Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (10 MB, for forms) and would refuse a valid 12 MB file."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_XML_BYTES:
        return None  # refused before reading a byte
    data = request.read(MAX_XML_BYTES + 1)
    return None if len(data) > MAX_XML_BYTES else data


@csrf_exempt
@require_POST
@token_required
def api_import(request):
    """POST an XML declaration: the dossier is found from the root's formulaire, exercice and
    siren (which must be the token's organism), created if needed, and the file applied."""
    data = _body(request)
    if data is None:
        return _error(413, MSG_TOO_BIG.format(mb=MAX_XML_BYTES // (1024 * 1024)))
    try:
        root = import_root(data)
    except XmlImportRefused as exc:
        return _error(422, "Fichier refusé.", rapport=_report_json(exc.report))
    organism = request.api_organism
    if root.get("siren") != organism.siren:
        return _error(
            403,
            f"Le SIREN du fichier ({root.get('siren')}) n'est pas celui de l'organisme du jeton "
            f"({organism.siren}).",
        )
    document_type = DocumentType.objects.filter(code=root.get("formulaire") or "").first()
    campaign = Campaign.objects.filter(exercise=_int(root.get("exercice"))).first()
    if document_type is None or campaign is None:
        return _error(
            404,
            "Aucune campagne de cet exercice ne collecte ce formulaire sur cette plateforme.",
        )
    try:
        dossier = dossier_open(
            organism=organism,
            campaign=campaign,
            document_type=document_type,
            acting_user=request.api_user,
        )
        report = dossier_import_xml(dossier=dossier, data=data, acting_user=request.api_user)
    except NoFormVersion as exc:
        return _error(404, str(exc))
    except XmlImportRefused as exc:
        return _error(
            422, "Fichier refusé : aucune valeur modifiée.", rapport=_report_json(exc.report)
        )
    return JsonResponse({"dossier": dossier.pk, "rapport": _report_json(report)})


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


MSG_VALID = "Fichier valide : l'import l'accepterait. Rien n'a été modifié (vérification seule)."
MSG_INVALID = "Fichier refusé : un import le refuserait. Rien n'a été modifié (vérification seule)."
MSG_NO_VERSION = (
    "Aucune version {version} du formulaire « {code} » sur cette plateforme : le fichier doit "
    "nommer un formulaire et une version publiés (leur XSD est dans Formulaires)."
)


@csrf_exempt
@require_POST
@token_required(editors=True)
def api_validate(request):
    """POST an XML declaration to check it as an import would, without changing anything.

    An organisme token: against the organism's dossier named by the root (formulaire,
    exercice, its own SIREN), or against a blank dossier when it has none yet (none is
    created). A software editor's token: against the form version the root names
    (formulaire, version), whatever the SIREN."""
    data = _body(request)
    if data is None:
        return _error(413, MSG_TOO_BIG.format(mb=MAX_XML_BYTES // (1024 * 1024)))
    try:
        root = import_root(data)
    except XmlImportRefused as exc:
        return _error(422, MSG_INVALID, valide=False, rapport=_report_json(exc.report))
    organism = request.api_organism
    try:
        if organism is None:  # a software editor: the version the file names
            version = (
                versions_visible_to(request.api_user)  # an editor's: drafts included
                .filter(
                    document_type__code=root.get("formulaire") or "",
                    number=_int(root.get("version")) or 0,
                )
                .first()
            )
            if version is None:
                return _error(
                    404,
                    MSG_NO_VERSION.format(version=root.get("version"), code=root.get("formulaire")),
                )
            report = version_validate_xml(version=version, data=data, acting_user=request.api_user)
            dossier_pk = None
        else:
            if root.get("siren") != organism.siren:
                return _error(
                    403,
                    f"Le SIREN du fichier ({root.get('siren')}) n'est pas celui de l'organisme "
                    f"du jeton ({organism.siren}).",
                )
            dossier = _organism_dossier(request, root)
            if isinstance(dossier, JsonResponse):
                return dossier
            report = dossier_validate_xml(dossier=dossier, data=data, acting_user=request.api_user)
            dossier_pk = dossier.pk
    except XmlImportRefused as exc:
        return _error(422, MSG_INVALID, valide=False, rapport=_report_json(exc.report))
    return JsonResponse(
        {
            "valide": True,
            "message": MSG_VALID,
            "dossier": dossier_pk,
            "rapport": _report_json(report),
        }
    )


def _organism_dossier(request, root):
    """The token's organism's dossier the root names, or an unsaved blank one of the current
    version when it has none (nothing is created), or the error answer."""
    organism = request.api_organism
    document_type = DocumentType.objects.filter(code=root.get("formulaire") or "").first()
    campaign = Campaign.objects.filter(exercise=_int(root.get("exercice"))).first()
    if document_type is None or campaign is None:
        return _error(
            404, "Aucune campagne de cet exercice ne collecte ce formulaire sur cette plateforme."
        )
    dossier = Dossier.objects.filter(
        organism=organism, campaign=campaign, document_type=document_type
    ).first()
    if dossier is not None:
        return dossier
    if not document_type.may_file(organism):
        return _error(404, f"« {document_type.label} » ne concerne pas votre organisme.")
    version = current_version(document_type, campaign)
    if version is None:
        return _error(
            404,
            MSG_NO_VERSION_YET.format(document=document_type.label, campaign=str(campaign).lower()),
        )
    return version_blank_dossier(version, organism=organism)


@require_GET
@token_required
def api_export(request, code: str, exercice: int):
    dossier = (
        Dossier.objects.select_related("organism", "campaign", "document_type", "form_version")
        .filter(
            organism=request.api_organism,
            document_type__code=code,
            campaign__exercise=exercice,
        )
        .first()
    )
    if dossier is None:
        return _error(404, "Aucun dossier de votre organisme pour ce formulaire et cet exercice.")
    policy = DossierPolicy(request.api_user, dossier)
    if not policy.can_read_values:  # the token's user lost its binding meanwhile
        return _error(403, "Ce jeton ne donne pas accès à ce dossier.")
    return HttpResponse(dossier_xml(policy.readable()), content_type="application/xml")


_REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        key: {"type": "array", "items": {}}
        for key in (
            "applique",
            "inchange",
            "inconnu",
            "invalide",
            "calcule_ignore",
            "calcule_different",
            "erreurs",
            "controles_bloquants_en_echec",
            "avertissements",
        )
    },
}
_ERROR = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"message": {"type": "string"}, "rapport": _REPORT_SCHEMA},
            }
        }
    }
}
# The editors' operations in OpenAPI terms: the ``api`` app serves them within the platform's
# one document (``/api/v1/openapi.json``), beside the read API that ninja describes.
OPENAPI_PATHS = {
    "/api/v1/declarations/import": {
        "post": {
            "summary": "Importer une déclaration XML",
            "description": (
                "Le dossier est désigné par les attributs formulaire, exercice et siren de "
                "l'élément racine ; il est créé s'il n'existe pas. Chaque import remplace "
                "les valeurs des champs qu'il contient et laisse les autres ; un fichier "
                "refusé ne modifie rien."
            ),
            "requestBody": {
                "required": True,
                "content": {"application/xml": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": {
                    "description": "Importé",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "dossier": {"type": "integer"},
                                    "rapport": _REPORT_SCHEMA,
                                },
                            }
                        }
                    },
                },
                "401": {"description": "Jeton absent ou invalide", **_ERROR},
                "403": {"description": "SIREN d'un autre organisme", **_ERROR},
                "404": {"description": "Formulaire ou campagne inconnus", **_ERROR},
                "413": {"description": "Fichier trop volumineux (20 Mo)", **_ERROR},
                "422": {"description": "Fichier refusé, rien n'est modifié", **_ERROR},
            },
        }
    },
    "/api/v1/declarations/verifier": {
        "post": {
            "summary": "Vérifier une déclaration XML sans l'importer",
            "description": (
                "Les mêmes vérifications qu'un import (schéma XSD de la version, règles des "
                "champs, recalcul, contrôles), le même rapport, sans rien enregistrer : aucun "
                "dossier n'est créé ni modifié. Jeton d'un organisme : le dossier de "
                "l'organisme désigné par formulaire, exercice et siren (ou un dossier vierge "
                "de la version en cours s'il n'existe pas encore). Jeton d'un éditeur de "
                "logiciel : la version désignée par les attributs formulaire et version de "
                "l'élément racine, quel que soit le SIREN. Mêmes limites de débit que "
                "l'import."
            ),
            "requestBody": {
                "required": True,
                "content": {"application/xml": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": {
                    "description": "Fichier valide : un import l'accepterait",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "valide": {"type": "boolean"},
                                    "message": {"type": "string"},
                                    "dossier": {"type": "integer", "nullable": True},
                                    "rapport": _REPORT_SCHEMA,
                                },
                            }
                        }
                    },
                },
                "401": {"description": "Jeton absent ou invalide", **_ERROR},
                "403": {
                    "description": "SIREN d'un autre organisme, ou jeton d'un autre rôle",
                    **_ERROR,
                },
                "404": {"description": "Formulaire, version ou campagne inconnus", **_ERROR},
                "413": {"description": "Fichier trop volumineux (20 Mo)", **_ERROR},
                "422": {
                    "description": "Fichier qu'un import refuserait (rien n'est modifié)",
                    **_ERROR,
                },
                "429": {"description": "Trop de requêtes", **_ERROR},
            },
        }
    },
    "/api/v1/declarations/{formulaire}/{exercice}/xml": {
        "get": {
            "summary": "Exporter le dossier de l'organisme en XML",
            "parameters": [
                {
                    "name": "formulaire",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "ER_SOCIAUX",
                },
                {
                    "name": "exercice",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                    "example": 2024,
                },
            ],  # fmt: skip
            "responses": {
                "200": {
                    "description": "Le dossier au format harmonisé",
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                },
                "401": {"description": "Jeton absent ou invalide", **_ERROR},
                "404": {"description": "Pas de dossier", **_ERROR},
            },
        }
    },
}
