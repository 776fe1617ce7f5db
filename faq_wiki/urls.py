from django.urls import path

from faq_wiki import views

app_name = "faq_wiki"

urlpatterns = [
    path("recherche/", views.search, name="search"),
]
