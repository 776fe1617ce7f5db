"""The paste of a block on a sheet (included by declarations/urls.py, namespace
"declarations")."""

from django.urls import path

from declarations.paste import views

urlpatterns = [
    path("dossiers/<int:pk>/feuilles/<int:index>/coller/", views.sheet_paste, name="sheet_paste"),
]
