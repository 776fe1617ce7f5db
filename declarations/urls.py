from django.urls import include, path

from declarations import (
    views,
    views_deadline,
    views_grid,
    views_history,
    views_lifecycle,
    views_pairs,
    views_sync,
    views_tokens,
    views_xml,
)

app_name = "declarations"

urlpatterns = [
    path("", views.dossier_list, name="list"),
    path("ouvrir/<int:campaign_pk>/<int:type_pk>/", views.dossier_start, name="start"),
    path("essai/<int:version_pk>/", views.dossier_trial_start, name="trial"),
    path("dossiers/<int:pk>/", views.dossier_sheet, name="dossier"),
    path("dossiers/<int:pk>/feuilles/<int:index>/", views.dossier_sheet, name="sheet"),
    path(
        "feuilles/<int:pk>/grille-<str:stamp>.css",
        views_grid.sheet_stylesheet_view,
        name="sheet_css",
    ),
    path("dossiers/<int:pk>/enregistrer/", views.dossier_save, name="save"),
    path("dossiers/<int:pk>/xml/", views_xml.dossier_xml_page, name="xml"),
    path("dossiers/<int:pk>/xml/export/", views_xml.dossier_xml_export, name="xml_export"),
    path("dossiers/<int:pk>/support.xlsx", views_xml.dossier_support_export, name="support_export"),
    path("dossiers/<int:pk>/rapatrier/", views_sync.dossier_sync_page, name="sync"),
    path("dossiers/<int:pk>/tronc-commun/", views_sync.tc_pairing_page, name="tc_pairing"),
    path("dossiers/<int:pk>/etape/", views_lifecycle.dossier_step, name="step"),
    path(
        "dossiers/<int:pk>/transmis/<int:export_pk>/",
        views_lifecycle.snapshot_download,
        name="snapshot",
    ),
    path("dossiers/<int:pk>/historique/", views_history.dossier_history, name="history"),
    path("dossiers/<int:pk>/modifications/", views_history.dossier_changes, name="changes"),
    path(
        "echeances/<int:campaign_pk>/<int:type_pk>/<int:organism_pk>/",
        views_deadline.deadline_page,
        name="deadline",
    ),
    path("tronc-commun/", views_pairs.tc_pairs_page, name="tc_pairs"),
    path(
        "tronc-commun/<int:pk>/supprimer/",
        views_pairs.tc_pair_delete_view,
        name="tc_pair_delete",
    ),
    path("verifier/", views_xml.version_validate_page, name="validate"),
    path("jetons/", views_tokens.token_list, name="tokens"),
    path("jetons/<int:pk>/revoquer/", views_tokens.token_revoke, name="token_revoke"),
    # each part of the declaring screens keeps its own URL module
    path("", include("declarations.pdf.urls")),
    path("", include("declarations.controls.urls")),
    path("", include("declarations.receipts.urls")),
    path("", include("declarations.tables.urls")),
    path("", include("declarations.paste.urls")),
]
