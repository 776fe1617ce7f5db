"""PDF of a dossier (included by declarations/urls.py, namespace "declarations")."""

from django.urls import path

from declarations.pdf import views

urlpatterns = [
    path("dossiers/<int:pk>/pdf/", views.pdf_request, name="pdf_request"),
    path("dossiers/<int:pk>/pdf/<int:export_pk>/", views.pdf_status, name="pdf_status"),
    path("dossiers/<int:pk>/pdf/<int:export_pk>/etat/", views.pdf_state, name="pdf_state"),
    path(
        "dossiers/<int:pk>/pdf/<int:export_pk>/telecharger/",
        views.pdf_download,
        name="pdf_download",
    ),
]
