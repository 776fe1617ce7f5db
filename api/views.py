"""The platform's HTTP API under ``/api/v1/`` (django-ninja): the read API for gestionnaires
and partners, and one OpenAPI document (``openapi.json``, interactive docs at ``docs``) that
also describes the editors' import and export (``declarations.api``, plain Django views).

Authentication: ``Authorization: Bearer <jeton>``, a token made on this platform's « Jetons
d'accès API » page. A token lives in its platform's schema (another platform does not know
it: 401) and carries its user's role (``ApiToken.scope``): a gestionnaire's reads as that
gestionnaire, a partner user's as that partner, an organisme user's serves only the editors'
endpoints (403 here). Errors are JSON ``{"detail": "…"}`` in French; a dossier the token may
not read is answered 404, as one that does not exist."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from ninja import NinjaAPI, Path, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from accounts.models import Role
from api import reading
from api.schemas import Campagne, DossierValeurs, Erreur, PageDossiers
from declarations.api.views import MSG_NO_TOKEN
from declarations.api.views import OPENAPI_PATHS as EDITORS_PATHS
from declarations.models import ApiToken
from forms_cms.xmlformat import dossier_xml
from organisms.selectors import user_partner
from tenants.models import SecurityEvent
from tenants.security_events import security_event_record

READ_ROLES = (Role.GESTIONNAIRE, Role.PARTENAIRE)
MSG_WRONG_ROLE = (
    "Ce jeton est celui d'un organisme : il sert à l'import et à l'export des déclarations de "
    "son organisme (/api/v1/declarations/…), pas à l'API de lecture, réservée aux "
    "gestionnaires et aux partenaires."
)
MSG_EDITOR_SCOPE = (
    "Ce jeton est celui d'un éditeur de logiciel : il sert à vérifier des fichiers sans les "
    "importer (/api/v1/declarations/verifier), pas à l'API de lecture, réservée aux "
    "gestionnaires et aux partenaires."
)
MAX_LIMIT = 500
READ_ERRORS = {401: Erreur, 403: Erreur, 404: Erreur, 422: Erreur}


class BearerToken(HttpBearer):
    """A live token of this platform whose user still has the role it was made with; a
    partner user's only while its partner is active (a deactivated partner reads nothing)."""

    def authenticate(self, request, token: str):
        found = ApiToken.authenticate(token.strip())
        if found is None:
            return None
        if found.scope == Role.PARTENAIRE:
            partner = user_partner(found.user)
            if partner is None or not partner.is_active:
                security_event_record(
                    SecurityEvent.Kind.API_TOKEN_REFUSED,
                    username=found.user.get_username(),
                    detail=f"Jeton « {found.prefix} » d'un partenaire désactivé.",
                )
                return None
        return found


class HarmoniaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's document of the read API, with the editors' endpoints added (one document
        for the whole ``/api/v1/``)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        security = [{BearerToken.__name__: []}]
        for path, item in EDITORS_PATHS.items():
            schema["paths"][path] = {
                method: {**operation, "tags": ["Éditeurs de logiciels"], "security": security}
                for method, operation in item.items()
            }
        return schema


api = HarmoniaAPI(
    title="Harmonia — API",
    version="1",
    description=(
        "API de la plateforme, une par plateforme (ministère, fédérations), chacune avec ses "
        "propres jetons (« Jetons d'accès API » une fois connecté). **Lecture** : un jeton de "
        "gestionnaire lit les dossiers des campagnes (les valeurs d'un dossier une fois "
        "transmis, telles que transmises tant que la main est rendue à l'organisme) ; un "
        "jeton de partenaire lit les seuls dossiers transmis à son organisation, tels que "
        "transmis. **Éditeurs de logiciels** : un jeton d'organisme importe et exporte les "
        "déclarations de son organisme au format XML harmonisé ; le schéma XML (XSD) de "
        "chaque version de formulaire est publié dans l'espace Formulaires. Erreurs de la "
        'lecture : JSON `{"detail": "…"}` ; celles de l\'import et de l\'export : '
        '`{"message": "…", "rapport": …}`. 401 sans jeton valide, 403 pour un jeton d\'un '
        "autre rôle, 404 pour un dossier que le jeton ne peut pas lire."
    ),
    urls_namespace="api_v1",
    auth=BearerToken(),
    docs=Swagger(settings={"persistAuthorization": False}),
)


# --- errors: French, {"detail": …} -------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = api.create_response(request, {"detail": MSG_NO_TOKEN}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="harmonia"'
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Introuvable."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    problems = "; ".join(_french_problem(e) for e in exc.errors)
    return api.create_response(request, {"detail": f"Paramètre refusé : {problems}."}, status=422)


def _french_problem(error: dict) -> str:
    name = str(error.get("loc", ["?"])[-1])
    context = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind == "greater_than_equal":
        what = f"doit être supérieur ou égal à {context.get('ge')}"
    elif kind == "less_than_equal":
        what = f"doit être inférieur ou égal à {context.get('le')}"
    elif kind.startswith("int"):
        what = "doit être un nombre entier"
    elif kind == "missing":
        what = "est obligatoire"
    else:
        what = "n'a pas une valeur acceptée"
    return f"« {name} » {what}"


# --- the read API --------------------------------------------------------------------------------


def _reader(request) -> reading.Reader:
    token = request.auth
    if token.scope not in READ_ROLES:
        raise HttpError(403, MSG_EDITOR_SCOPE if token.scope == Role.EDITEUR else MSG_WRONG_ROLE)
    return reading.Reader.for_user(token.user, request)


def _summary(row: reading.Row, substeps: dict[str, str]) -> dict:
    dossier, deadline = row.dossier, row.deadline
    organism = dossier.organism
    return {
        "id": dossier.pk,
        "formulaire": dossier.document_type.code,
        "exercice": dossier.campaign.exercise,
        "organisme": {
            "siren": organism.siren,
            "nom": organism.name,
            "famille": organism.family,
            "famille_libelle": organism.get_family_display(),
        },
        "etape": row.step,
        "etape_libelle": reading.STEP_LABELS.get(row.step, row.step),
        "sous_etape": (
            {"code": row.substep_code, "libelle": substeps.get(row.substep_code, "")}
            if row.substep_code
            else None
        ),
        "ouvert_le": dossier.created_at,
        "transmis_le": row.sent_at,
        "modifie_le": row.changed_at,
        "date_limite": deadline.effective if deadline else None,
        "date_limite_regle": (deadline.missing or deadline.rule) if deadline else "",
        "valeurs_lisibles": row.readable,
    }


@api.get(
    "/campagnes",
    response={200: list[Campagne], **READ_ERRORS},
    tags=["Lecture"],
    summary="Campagnes de la plateforme et leurs formulaires",
)
def campagnes(request):
    _reader(request)
    return [
        {
            "exercice": c.exercise,
            "ouverture": c.opening_date,
            "date_limite": c.deadline,
            "formulaires": [
                {"code": d.code, "libelle": d.label}
                for d in sorted(c.document_types.all(), key=lambda d: d.code)
            ],
        }
        for c in reading.campaigns()
    ]


@api.get(
    "/campagnes/{exercice}/{formulaire}/dossiers",
    response={200: PageDossiers, **READ_ERRORS},
    tags=["Lecture"],
    summary="Dossiers d'une campagne pour un formulaire (paginés)",
    description=(
        "Un gestionnaire voit tous les dossiers ouverts (étape, dates, date limite ; "
        "`valeurs_lisibles` dit s'il peut en lire les valeurs) ; un partenaire les dossiers "
        "qui lui ont été transmis, à l'étape de leur dernier envoi. Triés par SIREN. "
        "`total` compte toute la liste ; `limit` (1 à 500, 100 par défaut) et `offset` "
        "choisissent la page."
    ),
)
def dossiers(
    request,
    exercice: int = Path(..., examples=[2024]),
    formulaire: str = Path(..., examples=["ER_SOCIAUX"]),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    reader = _reader(request)
    try:
        campaign, document_type = reading.campaign_document(exercice, formulaire)
    except reading.NotReadable as exc:
        raise Http404(str(exc)) from None
    total, rows = reader.page(campaign, document_type, limit=limit, offset=offset)
    substeps = reading.substep_labels()
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "dossiers": [_summary(r, substeps) for r in rows],  # validated once, by the response
    }


def _shown(request, pk: int, what: str) -> reading.Shown:
    reader = _reader(request)
    try:
        return reader.shown(pk, what)
    except reading.NotReadable as exc:
        raise Http404(str(exc)) from None


@api.get(
    "/dossiers/{dossier_id}",
    response={200: DossierValeurs, **READ_ERRORS},
    tags=["Lecture"],
    summary="Valeurs d'un dossier (JSON)",
    description=(
        "Les valeurs que ce jeton peut lire : pour un gestionnaire, le dossier à partir de "
        "sa transmission (les valeurs transmises tant que la main est rendue à l'organisme) ; "
        "pour un partenaire, les valeurs de son dernier envoi. 404 sinon, sans rien dire de "
        "plus sur le dossier."
    ),
)
def dossier_values(request, dossier_id: int):
    shown = _shown(request, dossier_id, "values")
    return {
        **_summary(shown.row, reading.substep_labels()),
        "version": shown.dossier.form_version.number,
        "valeurs_transmises": shown.from_transmission,
        "valeurs": shown.dossier.values,
        "calcules": shown.dossier.computed,
    }


@api.get(
    "/dossiers/{dossier_id}/xml",
    response={401: Erreur, 403: Erreur, 404: Erreur, 422: Erreur},
    tags=["Lecture"],
    summary="Un dossier au format XML harmonisé",
    description="Les mêmes valeurs que le JSON, au format des éditeurs (XSD de la version).",
    openapi_extra={
        "responses": {
            "200": {
                "description": "Le dossier au format XML harmonisé",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def dossier_xml_view(request, dossier_id: int):
    shown = _shown(request, dossier_id, "xml")
    response = HttpResponse(dossier_xml(shown.dossier), content_type="application/xml")
    response["Content-Disposition"] = f'inline; filename="{shown.dossier.document_stem}.xml"'
    return response
