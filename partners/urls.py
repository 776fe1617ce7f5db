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
    path("gestion/", views.partner_list, name="partner_list"),
    path("gestion/nouveau/", views.partner_create_view, name="partner_create"),
    path("gestion/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("gestion/<int:pk>/modification/", views.partner_edit, name="partner_edit"),
    path("gestion/<int:pk>/activation/", views.partner_activation, name="partner_activation"),
    path(
        "gestion/<int:pk>/comptes/nouveau/", views.partner_user_create, name="partner_user_create"
    ),
    path(
        "gestion/<int:pk>/comptes/<int:user_pk>/activation/",
        views.partner_user_activation,
        name="partner_user_activation",
    ),
]
