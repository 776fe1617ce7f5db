"""The forms screens are reachable from the platform's administration (Wagtail admin)."""

from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem


@hooks.register("register_admin_menu_item")
def forms_menu_item():
    return MenuItem(
        "Formulaires (supports Excel)",
        reverse("forms_cms:version_list"),
        icon_name="table",
        order=250,
    )
