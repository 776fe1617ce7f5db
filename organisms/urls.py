from django.urls import path

from organisms import views

app_name = "organisms"

urlpatterns = [
    path("", views.organism_list, name="list"),
    path("import/", views.registry_import, name="import"),
]
