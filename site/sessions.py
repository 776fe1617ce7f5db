"""Idle sessions end after ``SESSION_COOKIE_AGE`` without a session write on every request.

Django's ``SESSION_SAVE_EVERY_REQUEST`` pushes the expiry back by rewriting the session row at
each request: one UPDATE per cell saved, the busiest request of the platform. Here the row is
rewritten only when the last refresh is older than ``HARMONIA_SESSION_REFRESH_SECONDS`` (60 s):
a session then ends between ``SESSION_COOKIE_AGE`` minus that and ``SESSION_COOKIE_AGE`` after
the last request, and a person typing all afternoon writes one row a minute.
"""

from __future__ import annotations

import time

from django.conf import settings

TOUCHED = "_harmonia_touched"


class SessionIdleRefreshMiddleware:
    """After ``SessionMiddleware`` in ``MIDDLEWARE`` (its response runs before that one's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.session_key is None or session.is_empty():
            return response  # no session to keep alive (and none is created here)
        now = int(time.time())
        every = getattr(settings, "HARMONIA_SESSION_REFRESH_SECONDS", 60)
        if now - session.get(TOUCHED, 0) >= every:
            session[TOUCHED] = now  # marks it modified: SessionMiddleware saves it
        return response


def stamp_on_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: signing in writes the session anyway; the next minute's requests
    need not."""
    if request is not None and hasattr(request, "session"):
        request.session[TOUCHED] = int(time.time())
