"""Project-level security middleware: HTTPS only, with French answers to plain HTTP; the
Content-Security-Policy (django-csp) with its one exception, Wagtail's admin.

Django's SecurityMiddleware answers a plain HTTP request with an empty 301, whatever the
method: a form or an API call posted over HTTP would be replayed as a GET, its data lost
without a word. Here a GET or HEAD is redirected (301) with a French line in the body, and
any other method is refused (403) with a French message: nothing is done, and the client is
told to send the request again over HTTPS.
"""

from __future__ import annotations

import re

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse

HTTPS_MOVED = "Ce site n'est servi qu'en HTTPS : {url}"
HTTPS_REFUSED = (
    "Requête refusée : ce site n'accepte que des requêtes en HTTPS. Rien n'a été enregistré ; "
    "envoyez-la de nouveau à {url}"
)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


class HttpsOnlyMiddleware:
    """Placed just before Django's SecurityMiddleware (which keeps the HSTS and other headers,
    and which `check --deploy` looks for by name); reads the same settings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.SECURE_SSL_REDIRECT or request.is_secure():
            return self.get_response(request)
        path = request.path.lstrip("/")
        if any(re.search(pattern, path) for pattern in settings.SECURE_REDIRECT_EXEMPT):
            return self.get_response(request)
        host = settings.SECURE_SSL_HOST or request.get_host()
        url = f"https://{host}{request.get_full_path()}"
        if request.method in ("GET", "HEAD"):
            response = HttpResponsePermanentRedirect(url)
            response.content = HTTPS_MOVED.format(url=url).encode()
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        message = HTTPS_REFUSED.format(url=url)
        if _wants_json(request):
            return JsonResponse({"message": message}, status=403)
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with one exception: Wagtail's admin (``/cms/``) writes inline
    scripts and styles of its own, which we cannot move; it gets the same policy with
    'unsafe-inline' for scripts and styles, and may frame itself (the page preview)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(tuple(settings.HARMONIA_CSP_ADMIN_PREFIXES)):
            parts.replace = {**ADMIN_RELAXED, **(parts.replace or {})}
        return parts


SELF = "'self'"
ADMIN_RELAXED = {
    "script-src": [SELF, "'unsafe-inline'"],
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:", "blob:"],
    "frame-src": [SELF],
    "frame-ancestors": [SELF],
}
