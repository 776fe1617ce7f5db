from django.urls import path

from forms_cms import views, views_carryover, views_controls

app_name = "forms_cms"

urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("deposer/", views.version_upload, name="version_upload"),
    path("deposer/exemple.xlsx", views.sample_workbook, name="sample_workbook"),
    path("types/", views.document_types, name="document_types"),
    path("types/<int:pk>/", views.document_types, name="document_type_edit"),
    path("<int:pk>/", views.version_detail, name="version_detail"),
    path("<int:pk>/fichiers/<str:kind>/", views.version_file, name="version_file"),
    # the ministry platform serves every platform's published versions (editors' section)
    path(
        "plateformes/<slug:code>/<int:pk>/",
        views.platform_version_detail,
        name="platform_version_detail",
    ),
    path(
        "plateformes/<slug:code>/<int:pk>/fichiers/<str:kind>/",
        views.platform_version_download,
        name="platform_version_file",
    ),
    path("<int:pk>/publier/", views.version_publish, name="version_publish"),
    path("<int:pk>/champs/<int:field_pk>/", views.field_edit, name="field_edit"),
    path("<int:pk>/controles/", views_controls.control_list, name="control_list"),
    path("<int:pk>/controles/ajouter/", views_controls.control_edit, name="control_create"),
    path("<int:pk>/controles/<int:control_pk>/", views_controls.control_edit, name="control_edit"),
    path(
        "<int:pk>/controles/<int:control_pk>/activer/",
        views_controls.control_toggle,
        name="control_toggle",
    ),
    path(
        "<int:pk>/controles/<int:control_pk>/supprimer/",
        views_controls.control_delete,
        name="control_delete",
    ),
    path(
        "<int:pk>/controles/reprendre/",
        views_controls.controls_carry_over,
        name="controls_carry_over",
    ),
    path("<int:pk>/reprise/", views_carryover.carry_over, name="carry_over"),
    path("<int:pk>/reprise/regles.csv", views_carryover.carry_over_csv, name="carry_over_csv"),
    path("<int:pk>/agregats/ajouter/", views_controls.aggregate_edit, name="aggregate_create"),
    path(
        "<int:pk>/agregats/<int:aggregate_pk>/",
        views_controls.aggregate_edit,
        name="aggregate_edit",
    ),
    path(
        "<int:pk>/agregats/<int:aggregate_pk>/supprimer/",
        views_controls.aggregate_delete,
        name="aggregate_delete",
    ),
]
