from django.db import connection
from wagtail.contrib.redirects.middleware import RedirectMiddleware

from tenants.platforms import PUBLIC_SCHEMA


class PlatformRedirectMiddleware(RedirectMiddleware):
    """Wagtail's redirects, on platforms only: the public schema has no Wagtail tables."""

    def process_response(self, request, response):
        if connection.schema_name == PUBLIC_SCHEMA:
            return response
        return super().process_response(request, response)
