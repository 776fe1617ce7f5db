from django.urls import path

from declarations.controls import views

urlpatterns = [
    path("dossiers/<int:pk>/verification/", views.dossier_verification, name="verification"),
]
