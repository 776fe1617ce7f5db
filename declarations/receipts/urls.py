"""The confirmation step (included by declarations/urls.py, namespace "declarations")."""

from django.urls import path

from declarations.receipts import views

urlpatterns = [
    path(
        "dossiers/<int:pk>/etape/<slug:action>/confirmer/",
        views.action_confirm,
        name="confirm",
    ),
]
