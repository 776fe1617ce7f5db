"""A multivalued table's row actions (included by declarations/urls.py, namespace
"declarations")."""

from django.urls import path

from declarations.tables import views

urlpatterns = [
    path("dossiers/<int:pk>/tableaux/<str:table>/", views.table_save, name="table_save"),
]
