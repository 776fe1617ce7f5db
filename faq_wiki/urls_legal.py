"""The legal pages' fixed addresses, on every platform and on the public host (footer links)."""

from django.urls import path

from faq_wiki import views
from faq_wiki.legal import LEGAL_KINDS

app_name = "legal"

urlpatterns = [
    path(f"{kind.slug}/", views.legal_page, {"kind": kind.code}, name=kind.url_name)
    for kind in LEGAL_KINDS
]
