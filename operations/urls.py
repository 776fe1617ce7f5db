"""Operator's space on the public host, mounted under /operateur/."""

from django.urls import path, re_path

from operations import views, views_activity, views_hotline, views_registers, views_security

app_name = "operations"

urlpatterns = [
    path("anomalies/", views.anomaly_list, name="anomaly_list"),
    path("anomalies/nouvelle/", views.anomaly_create, name="anomaly_create"),
    # Before "anomalies/<str:number>/", which would take "synthese" for a number.
    path("anomalies/synthese/", views.anomaly_synthesis, name="anomaly_synthesis"),
    path("anomalies/<str:number>/", views.anomaly_detail, name="anomaly_detail"),
    path("anomalies/<str:number>/details/", views.anomaly_details, name="anomaly_details"),
    path("anomalies/<str:number>/modifier/", views.anomaly_change, name="anomaly_change"),
    path(
        "anomalies/<str:number>/reclassement/",
        views.reclassification_request,
        name="reclassification_request",
    ),
    path(
        "reclassements/<int:pk>/decision/",
        views.reclassification_decide,
        name="reclassification_decide",
    ),
    path("correspondants/", views.correspondent_list, name="correspondent_list"),
    path("correspondants/<int:pk>/", views.correspondent_edit, name="correspondent_edit"),
    path("versions/", views.release_list, name="release_list"),
    path("versions/suivi/", views_registers.version_document, name="version_document"),
    path("versions/<int:pk>/modifier/", views_registers.release_edit, name="release_edit"),
    path("versions/<int:pk>/publier/", views.release_publish, name="release_publish"),
    path("maintenances/", views.maintenance_list, name="maintenance_list"),
    path("maintenances/<int:pk>/decision/", views.maintenance_decide, name="maintenance_decide"),
    path("evolutions/", views_registers.evolution_list, name="evolution_list"),
    # Before "evolutions/<str:number>/", which would take "synthese" for a number.
    path("evolutions/synthese/", views_registers.evolution_synthesis, name="evolution_synthesis"),
    path("evolutions/<str:number>/", views_registers.evolution_detail, name="evolution_detail"),
    path(
        "evolutions/<str:number>/decision/",
        views_registers.evolution_decide,
        name="evolution_decide",
    ),
    path(
        "evolutions/<str:number>/livraison/",
        views_registers.evolution_deliver,
        name="evolution_deliver",
    ),
    path("formulaires/temps/", views_registers.workload_list, name="workload_list"),
    path("formulaires/temps/rapport/", views_registers.workload_report, name="workload_report"),
    path("formulaires/temps/envoi/", views_registers.workload_send, name="workload_send"),
    path(
        "formulaires/temps/<int:pk>/supprimer/",
        views_registers.workload_delete,
        name="workload_delete",
    ),
    path("hotline/", views_hotline.hotline_list, name="hotline_list"),
    path("hotline/nouveau/", views_hotline.hotline_create, name="hotline_create"),
    path("hotline/<int:pk>/", views_hotline.hotline_edit, name="hotline_edit"),
    path("hotline/rapport/", views_hotline.hotline_report, name="hotline_report"),
    path("hotline/export/", views_hotline.hotline_export, name="hotline_export"),
    path("activite/", views_activity.activity_list, name="activity_list"),
    re_path(
        r"^activite/(?P<pk>[0-9]+)/(?P<fmt>pdf|xlsx)/$",
        views_activity.activity_download,
        name="activity_download",
    ),
    path("securite/", views_security.security_events, name="security_events"),
    path("securite/regles/", views_security.security_rules, name="security_rules"),
    path(
        "securite/regles/nouvelle/", views_security.security_rule_edit, name="security_rule_create"
    ),
    path("securite/regles/<int:pk>/", views_security.security_rule_edit, name="security_rule_edit"),
    path(
        "securite/regles/<int:pk>/supprimer/",
        views_security.security_rule_delete,
        name="security_rule_delete",
    ),
]
