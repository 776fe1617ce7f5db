"""URLs of the public host: platform list, operator's space, operator accounts."""

from django.urls import include, path

from operations.views import operator_home
from tenants import views

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("operateur/", operator_home, name="home"),
    path("operateur/", include("operations.urls")),
    path("operateur/reversibilite/", include("reversibility.urls")),
    path("comptes/", include("accounts.urls")),
    path("", include("faq_wiki.urls_legal")),
]
