from django.urls import path

from extractions import views

app_name = "extractions"

urlpatterns = [
    path("", views.extraction_list, name="list"),
    path("campagne/<int:pk>/", views.gestionnaire_request, name="request"),
    path("partenaire/", views.partner_request, name="partner_request"),
    path("<int:pk>/fichier/", views.extraction_download, name="download"),
]
