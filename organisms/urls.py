from django.urls import path

from organisms import views

app_name = "organisms"

urlpatterns = [
    path("", views.organism_list, name="list"),
    path("<int:pk>/", views.organism_detail, name="detail"),
    path("import/", views.registry_import, name="import"),
    path("comptes/", views.user_list, name="users"),
    path("comptes/nouveau/", views.user_create, name="user_create"),
    path("comptes/<int:pk>/activation/", views.user_set_active, name="user_set_active"),
]
