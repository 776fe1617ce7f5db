from django.urls import path

from declarations.api import views

app_name = "api"

urlpatterns = [
    path("declarations/import", views.api_import, name="import"),
    path("declarations/verifier", views.api_validate, name="validate"),
    path("declarations/<str:code>/<int:exercice>/xml", views.api_export, name="export"),
]
