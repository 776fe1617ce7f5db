from django.urls import path

from workflow import views, views_campaign, views_deadlines, views_migration, views_workspace

app_name = "workflow"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("ouvrir/", views.campaign_create, name="campaign_create"),
    path("<int:pk>/", views_campaign.campaign_detail, name="campaign_detail"),
    path("<int:pk>/dossiers/", views_workspace.workspace, name="workspace"),
    path("<int:pk>/dossiers/relancer/", views_campaign.workspace_remind, name="workspace_remind"),
    path(
        "<int:pk>/dossiers/export.<str:fmt>",
        views_workspace.workspace_export,
        name="workspace_export",
    ),
    path("<int:pk>/dossiers/deplacer/", views_workspace.workspace_move, name="workspace_move"),
    path(
        "versions/<int:pk>/migration/",
        views_migration.version_migration,
        name="version_migration",
    ),
    path("echeances/", views_deadlines.deadline_rules, name="deadline_rules"),
    path("echeances/<int:pk>/", views_deadlines.deadline_rules, name="deadline_rule_edit"),
    path("sous-etapes/", views_workspace.substeps, name="substeps"),
    path("sous-etapes/<int:pk>/", views_workspace.substeps, name="substep_edit"),
]
