"""Content pages are for signed-in users of the platform; some pages only for some roles."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from wagtail import hooks

from accounts.models import PLATFORM_ROLES
from faq_wiki.legal import LEGAL_KIND
from faq_wiki.models import LegalPage, user_may_read


@hooks.register("before_serve_page")
def require_platform_user(page, request, serve_args, serve_kwargs):
    if isinstance(page, LegalPage):
        # readable by anyone, at the fixed address the footer links to
        return redirect(f"legal:{LEGAL_KIND[page.kind].url_name}")
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user.role not in PLATFORM_ROLES:
        raise PermissionDenied("Votre rôle ne donne pas accès à ces contenus.")
    for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1).specific():
        if not user_may_read(ancestor, user):
            raise PermissionDenied("Cette page est réservée à d'autres profils d'utilisateurs.")
    return None


@hooks.register("before_serve_document")
def require_platform_user_for_documents(document, request):
    """Documents are served (through Wagtail's view only: WAGTAILDOCS_SERVE_METHOD) to the
    platform's signed-in users; a collection's own view restrictions (a group, a password)
    are checked after this by Wagtail's hook. A session of another platform is no session
    here (each platform has its users and sessions), so its holder is sent to sign in."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user.role not in PLATFORM_ROLES:
        raise PermissionDenied("Votre rôle ne donne pas accès à ces documents.")
    return None
