"""Search across the FAQ, the wiki and the manuals (Wagtail search, French configuration);
the legal pages at their fixed addresses."""

from django.db import connection
from django.shortcuts import redirect, render
from django_tenants.utils import get_public_schema_name

from accounts.models import Role
from accounts.permissions import role_required
from faq_wiki.help import help_url
from faq_wiki.legal import LEGAL_KIND, legal_body
from faq_wiki.models import FaqPage, LegalPage, ManualPage, WikiPage, user_may_read

SEARCHED = ((FaqPage, "Question"), (WikiPage, "Wiki"), (ManualPage, "Manuel"))
MAX_RESULTS = 50


def content_search(query: str, user) -> list[dict]:
    """Live FAQ, wiki and manual pages matching ``query`` that ``user`` may read."""
    results = []
    for model, kind in SEARCHED:
        for page in model.objects.live().search(query)[:MAX_RESULTS]:
            if user_may_read(page, user) and all(
                user_may_read(a, user) for a in page.get_ancestors().filter(depth__gt=2).specific()
            ):
                results.append({"page": page, "kind": kind})
    return results


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.PARTENAIRE, Role.EDITEUR)
def search(request):
    query = request.GET.get("q", "").strip()
    results = content_search(query, request.user) if query else []
    return render(request, "faq_wiki/search.html", {"q": query, "results": results})


@role_required(Role.ORGANISME, Role.GESTIONNAIRE, Role.PARTENAIRE, Role.EDITEUR)
def help_for(request):
    """« Aide sur cette page »: the help section about the page ``?vue=`` names."""
    return redirect(help_url(request.GET.get("vue", ""), request.user))


def legal_page(request, kind: str):
    """A legal page, readable by anyone: the platform's published page from the CMS when
    there is one, else the default text (always on the public host, which has no CMS)."""
    page = None
    if connection.schema_name != get_public_schema_name():
        page = LegalPage.objects.live().filter(kind=kind).first()
    platform = getattr(request, "tenant", None)
    return render(
        request,
        "legal/page.html",
        {
            "kind": LEGAL_KIND[kind],
            "page": page,
            "default_body": None if page else legal_body(kind, platform),
            "can_edit": page is not None
            and request.user.is_authenticated
            and request.user.role == Role.GESTIONNAIRE,
        },
    )
