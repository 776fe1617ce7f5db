from django.urls import path

from exchanges import views

app_name = "exchanges"

urlpatterns = [
    path("", views.overview, name="list"),
    path("dossiers/<int:pk>/", views.thread, name="thread"),
    path("dossiers/<int:pk>/pieces/<int:attachment_pk>/", views.download, name="download"),
]
