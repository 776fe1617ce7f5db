"""The exit drills' reports, mounted under /operateur/reversibilite/ on the public host."""

from django.urls import path, re_path

from reversibility import views

app_name = "reversibility"

urlpatterns = [
    path("", views.drill_list, name="drill_list"),
    path("<int:pk>/", views.drill_detail, name="drill_detail"),
    re_path(r"^(?P<pk>[0-9]+)/(?P<fmt>pdf|md)/$", views.drill_download, name="drill_download"),
]
