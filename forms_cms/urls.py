from django.urls import path

from forms_cms import views

app_name = "forms_cms"

urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("deposer/", views.version_upload, name="version_upload"),
    path("types/", views.document_types, name="document_types"),
    path("types/<int:pk>/", views.document_types, name="document_type_edit"),
    path("<int:pk>/", views.version_detail, name="version_detail"),
    path("<int:pk>/fichiers/<str:kind>/", views.version_file, name="version_file"),
    path("<int:pk>/champs/<int:field_pk>/", views.field_edit, name="field_edit"),
    path("<int:pk>/migration/", views.version_migration, name="version_migration"),
]
