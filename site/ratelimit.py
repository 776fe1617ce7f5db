"""Rate limits on sign-in, password reset and the API, counted in the shared cache.

A fixed-window counter per (limit, identity): ``cache.add`` opens the window, ``cache.incr``
counts; only ``django.core.cache.caches`` is used, so every node counting in the same shared
cache (``HARMONIA_RATELIMIT_CACHE``, the ``default`` one) sees the same counts. Keys go through
the cache's key function (django-tenants': the schema is part of each key), so each platform
counts its own sign-ins and tokens. The limit comes before the view: a request over its limit
gets a 429 with ``Retry-After`` and a French message, and nothing is done (no sign-in attempt
recorded, no e-mail sent, no API call served). The first refusal of each window is recorded
as a security event (``tenants.security_events``), the later ones of that window are not.

Why not django-ratelimit: its system checks refuse the local-memory cache of development and
tests and warn on the database cache, and it answers 403; here a 429 with Retry-After is
wanted, in HTML for the forms and in JSON for the APIs, from one middleware.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import JsonResponse
from django.shortcuts import render
from harmonia.logs import client_ip

from tenants.models import SecurityEvent
from tenants.security_events import security_event_record

__all__ = ["client_ip", "hit", "RateLimitMiddleware"]

MESSAGE = "Trop de requêtes : réessayez dans {seconds} secondes."


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """« 10/300 »: 10 requests per 300 seconds."""
        count, _, seconds = text.partition("/")
        return cls(int(count), int(seconds or 60))


def limit(name: str) -> Limit:
    return Limit.parse(settings.HARMONIA_RATE_LIMITS[name])


def hit(name: str, identity: str, *, now: float | None = None) -> int:
    """Count one request of ``identity`` against limit ``name``; the seconds to wait when it
    is over the limit, else 0."""
    rule = limit(name)
    if rule.count <= 0 or not identity:
        return 0
    now = time.time() if now is None else now
    window = int(now // rule.seconds)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]  # no e-mail or token in keys
    key = f"ratelimit:{name}:{digest}:{window}"
    cache = caches[settings.HARMONIA_RATELIMIT_CACHE]
    cache.add(key, 0, timeout=rule.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=rule.seconds + 1)
        count = 1
    if count <= rule.count:
        return 0
    if count == rule.count + 1:  # the first refusal of the window: one event, not a flood
        security_event_record(
            SecurityEvent.Kind.RATE_LIMITED,
            detail=f"Limite « {name} » ({rule.count} requêtes en {rule.seconds} s) dépassée.",
        )
    return max(1, math.ceil((window + 1) * rule.seconds - now))


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def checks_for(request, view_name: str | None) -> list[tuple[str, str]]:
    """The (limit, identity) pairs this request counts against."""
    ip = client_ip(request)
    if request.path.startswith("/api/"):
        token = _bearer(request)
        if token:
            # per token; and per address, so that made-up tokens do not escape the count
            return [("api_token", token), ("api_ip", ip)]
        return [("api_anonymous", ip)]
    if request.method != "POST":
        return []
    if view_name == "accounts:login":
        username = request.POST.get("username", "").strip().lower()
        return [("login_ip", ip), ("login_username", username)]
    if view_name == "accounts:password_reset":
        email = request.POST.get("email", "").strip().lower()
        return [("password_reset_ip", ip), ("password_reset_email", email)]
    return []


def too_many_requests(request, seconds: int):
    message = MESSAGE.format(seconds=seconds)
    if request.path.startswith("/api/"):
        # the editors' API answers errors as {"message"}, the read API as {"detail"}
        response = JsonResponse({"message": message, "detail": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


class RateLimitMiddleware:
    """After the URL is resolved (``process_view``) and before the view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        wait = 0
        for name, identity in checks_for(request, match.view_name if match else None):
            wait = max(wait, hit(name, identity))
        return too_many_requests(request, wait) if wait else None
