"""URLs of each platform (the same code, served from each platform's own schema)."""

from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from api.views import api
from dashboards.views import platform_home

urlpatterns = [
    path("", platform_home, name="home"),
    path("comptes/", include("accounts.urls")),
    path("organismes/", include("organisms.urls")),
    path("campagnes/", include("workflow.urls")),
    path("formulaires/", include("forms_cms.urls")),
    path("declarations/", include("declarations.urls")),
    path("echanges/", include("exchanges.urls")),
    path("partenaires/", include("partners.urls")),
    path("extractions/", include("extractions.urls")),
    path("api/v1/", include("declarations.api.urls")),  # editors' import and export
    path("api/v1/", api.urls),  # read API, OpenAPI document (both), interactive docs
    path("aide/", include("faq_wiki.urls")),
    path("", include("faq_wiki.urls_legal")),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("abonnements/", include("subscriptions.urls")),
    path("contenus/", include(wagtail_urls)),
]
