from django.urls import include, path

from declarations import views

app_name = "declarations"

urlpatterns = [
    path("", views.dossier_list, name="list"),
    path("ouvrir/<int:campaign_pk>/<int:type_pk>/", views.dossier_start, name="start"),
    path("dossiers/<int:pk>/", views.dossier_sheet, name="dossier"),
    path("dossiers/<int:pk>/feuilles/<int:index>/", views.dossier_sheet, name="sheet"),
    path("dossiers/<int:pk>/enregistrer/", views.dossier_save, name="save"),
    # each part of the declaring screens keeps its own URL module
    path("", include("declarations.pdf.urls")),
    path("", include("declarations.controls.urls")),
]
