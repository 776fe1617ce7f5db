"""Search across the FAQ, the wiki and the manuals (Wagtail search, French configuration)."""

from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required
from faq_wiki.models import FaqPage, ManualPage, WikiPage, user_may_read

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
