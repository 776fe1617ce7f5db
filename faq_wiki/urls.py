from django.urls import path

from faq_wiki import views

app_name = "faq_wiki"

urlpatterns = [
    path("recherche/", views.search, name="search"),
    path("sur-cette-page/", views.help_for, name="help_for"),
]
