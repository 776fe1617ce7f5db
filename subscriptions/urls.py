from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("<int:pk>/supprimer/", views.remove, name="remove"),
    path("desabonnement/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
