from django.urls import path

from workflow import views

app_name = "workflow"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("ouvrir/", views.campaign_create, name="campaign_create"),
]
