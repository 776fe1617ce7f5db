from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("", views.transmission_list, name="list"),
    path("<int:pk>/", views.transmission_detail, name="detail"),
    path("<int:pk>/documents/<int:export_pk>/", views.transmission_document, name="document"),
    path("choix/", views.choices, name="choices"),
    path("regles/", views.rule_list, name="rules"),
    path("regles/nouvelle/", views.rule_create, name="rule_create"),
    path("regles/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("regles/<int:pk>/suppression/", views.rule_delete, name="rule_delete"),
    path("journal/", views.access_log, name="journal"),
]
