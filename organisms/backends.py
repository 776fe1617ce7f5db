"""Sign-in for platform accounts: Django's model backend, and a partner user signs in (or
keeps a session) only while its partner is active."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django_tenants.utils import get_public_schema_name

from accounts.models import Role, User


class PlatformAccountBackend(ModelBackend):
    def get_user(self, user_id):
        """Each request's user, with its binding (one query: the views ask for it anyway);
        the public host's accounts have none (no such table in the public schema)."""
        users = User._default_manager.all()
        if connection.schema_name != get_public_schema_name():
            users = users.select_related("membership__organism", "membership__partner")
        try:
            user = users.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        """Asked at sign-in and for each request's session: deactivating a partner signs its
        users out at once."""
        if not super().user_can_authenticate(user):
            return False
        if getattr(user, "role", None) != Role.PARTENAIRE:
            return True
        membership = getattr(user, "membership", None)
        return membership is None or membership.partner is None or membership.partner.is_active
